"""A guide as a PDF to print (reportlab, the project's PDF stack): the same
text as the page, in the reader's language, with the same screenshots."""

import io
from xml.sax.saxutils import escape

from django.contrib.staticfiles import finders
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from .content import Guide, shot_path

IMAGE_WIDTH = 150 * mm


def _image(language: str, shot: str):
    path = finders.find(shot_path(language, shot))
    if not path:
        return None
    width, height = ImageReader(path).getSize()
    return Image(path, width=IMAGE_WIDTH, height=IMAGE_WIDTH * height / width)


def guide_pdf(guide: Guide, *, language: str) -> bytes:
    styles = getSampleStyleSheet()
    step_style = ParagraphStyle(
        "step", parent=styles["BodyText"], fontSize=13, leading=17, spaceBefore=4, spaceAfter=4
    )
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=str(guide.title),
        author="SMS",
    )

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 9)
        canvas.setFillColor(colors.grey)
        canvas.drawString(25 * mm, 10 * mm, str(guide.title))
        canvas.drawRightString(A4[0] - 25 * mm, 10 * mm, _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    story = [
        Paragraph(escape(str(guide.title)), styles["Title"]),
        Paragraph(escape(str(guide.audience)), styles["BodyText"]),
        Spacer(0, 4 * mm),
        Paragraph(escape(_("Contents")), styles["Heading2"]),
    ]
    story += [
        Paragraph(f"{index}. {escape(str(task.title))}", styles["BodyText"])
        for index, task in enumerate(guide.tasks, start=1)
    ]
    for index, task in enumerate(guide.tasks, start=1):
        story.append(PageBreak())
        story.append(Paragraph(f"{index}. {escape(str(task.title))}", styles["Heading1"]))
        for number, step in enumerate(task.steps, start=1):
            block = [Paragraph(f"<b>{number}.</b> {escape(str(step.text))}", step_style)]
            image = _image(language, step.shot)
            if image is not None:
                block += [image, Spacer(0, 5 * mm)]
            story.append(KeepTogether(block))
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

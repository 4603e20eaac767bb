"""What printing labels costs: the time to render LABELS_LIMIT labels (the
most one PDF holds) in each format, and the PDF's size.

    .venv/bin/python bench/labels.py [-n 600]

No database: the items are in-memory stand-ins with realistic values (a
long mark, a lot with pieces and bags), rendered in French so numbers carry
their thousands separators. Prints, per format: seconds, pages, KiB.
"""

import argparse
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")


def items(count: int) -> list:
    ivory = SimpleNamespace(label=lambda: "Ivoire")
    tusk = SimpleNamespace(label=lambda: "Défense entière", is_lot=False, category=ivory)
    scales = SimpleNamespace(
        label=lambda: "Écailles", is_lot=True, category=SimpleNamespace(label=lambda: "Pangolin")
    )
    store = SimpleNamespace(name="Magasin central de la faune, Libreville")
    rows = []
    for number in range(1, count + 1):
        lot = number % 4 == 0
        rows.append(
            SimpleNamespace(
                sms_number=f"XD-2026-{number:06d}",
                cites_mark="" if lot else f"XD/2026/IV/{number:06d}/12.5kg",
                item_type=scales if lot else tusk,
                weight_kg=Decimal("1234.567") if lot else Decimal("12.500"),
                pieces=12000 if lot else 1,
                bags=14 if lot else None,
                site_id=1,
                site=store,
            )
        )
    return rows


def main() -> None:
    import django

    django.setup()
    from django.utils import translation
    from pypdf import PdfReader

    from stock import labels

    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=600)
    args = parser.parse_args()
    rows = items(args.n)
    with translation.override("fr"):
        for key in labels.FORMATS:
            start = time.perf_counter()
            pdf = labels.render_labels(rows, label_format=key)
            seconds = time.perf_counter() - start
            pages = len(PdfReader(io.BytesIO(pdf)).pages)
            print(
                f"{key:12} {args.n} labels  {seconds:5.2f} s  {pages:4} pages  {len(pdf) // 1024} KiB"
            )


if __name__ == "__main__":
    main()

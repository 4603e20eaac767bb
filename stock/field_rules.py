"""Which item fields apply to which item type (country schema; no queries):
the one source for the web forms and the item page (stock.forms, stock.views)
and the ODK registration form (odk.xlsforms), so a field never shows in one
and not in the other; also the names of the measurements stock.services checks.
"""

from .models import ItemCategory, ItemType

# Measurements in cm; each, when given, is more than 0.
MEASUREMENTS = (
    "length_outer_cm",
    "length_inner_cm",
    "lip_circumference_cm",
    "base_circumference_cm",
    "length_cm",
)

GENERAL_FIELDS = ["weight_kg", "weight_is_final", "species"]
IVORY_FIELDS = ["side", "length_outer_cm", "length_inner_cm", "lip_circumference_cm"]
HORN_FIELDS = ["horn_position", "base_circumference_cm", "length_cm"]
OTHER_PIECE_FIELDS = ["length_cm"]
LOT_FIELDS = ["pieces", "bags"]
ORIGIN_FIELDS = [
    "source",
    "legal_status",
    "court_hold",
    "case_reference",
    "exhibit_reference",
    "country_of_origin",
    "country_of_seizure",
    "acquired_on",
    "acquired_place",
]
RECEIPT_FIELDS = ["received_on", "received_by"]
DNA_FIELDS = ["dna_sample_id", "dna_lab", "dna_weight_removed_g"]
NOTES_FIELDS = ["notes"]


def fields_for_type(item_type: ItemType) -> dict[str, list[str]]:
    """The item fields that apply to ``item_type``, in display groups."""
    kind = item_type.category.kind
    description = list(GENERAL_FIELDS)
    if item_type.is_lot:
        description += LOT_FIELDS
    elif kind == ItemCategory.Kind.IVORY:
        description += IVORY_FIELDS
    elif kind == ItemCategory.Kind.RHINO_HORN:
        description += HORN_FIELDS
    else:
        description += OTHER_PIECE_FIELDS
    return {
        "description": description,
        "origin": list(ORIGIN_FIELDS),
        "receipt": list(RECEIPT_FIELDS),
        "dna": list(DNA_FIELDS),
        "notes": list(NOTES_FIELDS),
    }

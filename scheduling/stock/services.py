"""The stock ledger's writes: receive, dispense, waste, adjust, count, explain; each one transaction.

A lot's balance is the sum of its entries. Every write that lowers a balance
locks the lot's row first (``select_for_update``) and only then sums the
entries: two doses of the last device wait on the lock, the second sums after
the first committed, finds nothing left and is refused. Without the lock both
would read the same balance and both would dispense.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.errors import Conflict, Invalid, NotAllowed
from clinic.roles import CLINICIAN, MANAGER, has_role
from scheduling.models import (
    KIT_SIZES,
    PRODUCT_KIND_FOR_MODALITY,
    RELEASED_STATUSES,
    URGENCY,
    Discrepancy,
    Dose,
    EntryKind,
    LedgerEntry,
    Location,
    Lot,
    Product,
    Session,
    WorkItem,
    WorkKind,
)
from scheduling.stock.selectors import balance


class StockRefused(Conflict):
    """A stock rule refuses the movement (409 with a ``code`` naming the rule)."""

    code = "stock_refused"


def devices_in_kits(kits: int, kit_size: int) -> int:
    """Devices in ``kits`` esketamine kits of ``kit_size`` (2 for 56 mg, 3 for 84 mg)."""
    if kit_size not in KIT_SIZES:
        raise Invalid("An esketamine kit holds 2 or 3 devices.", fields={"kit_size": ["Use 2 (56 mg) or 3 (84 mg)."]})
    if kits < 1:
        raise Invalid("Receive at least one kit.", fields={"kits": ["Must be 1 or more."]})
    return kits * kit_size


def _positive(quantity: int, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise Invalid("The quantity is a whole number of 1 or more (devices, or mg).",
                      fields={field: ["Must be a whole number of 1 or more."]})
    return quantity


def _required_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(message, fields={field: ["This is required."]})
    return value


def _locked(lot: Lot) -> Lot:
    """The lot's row, locked until the transaction ends: the one lock every lowering of its balance takes."""
    return Lot.objects.select_for_update(of=("self",)).select_related("product", "location").get(pk=lot.pk)


def _unit(lot: Lot, quantity: int) -> str:
    unit = lot.product.unit
    return f"{quantity} {unit}{'s' if unit == 'device' and quantity != 1 else ''}"


def _refuse_if_short(lot: Lot, quantity: int) -> int:
    """The lot's balance, after refusing a take of ``quantity`` it cannot cover (call with the lot locked)."""
    on_hand = balance(lot)
    if on_hand < quantity:
        raise StockRefused(
            f"Lot {lot.lot_number} has {_unit(lot, on_hand)} left, fewer than the {_unit(lot, quantity)} asked for.",
            code="lot_short", fields={"lot": ["Not enough stock in this lot."]},
            extra={"balance": on_hand})
    return on_hand


def check_witness(*, by, witness) -> None:
    """A witness is another person, an active clinician or manager (409 ``witness_is_self``, ``witness_not_allowed``).

    Confirming the witness's password is the caller's part (``scheduling.stock.witness``).
    """
    if witness is None:
        raise Invalid("A witness is required.", fields={"witness": ["Name the second member of staff."]})
    if witness.pk == by.pk:
        raise StockRefused("The witness must be a second member of staff, not the person recording.",
                           code="witness_is_self", fields={"witness": ["Choose someone else."]})
    if not (witness.is_active and has_role(witness, CLINICIAN, MANAGER)):
        raise StockRefused("The witness must be an active clinician or manager.", code="witness_not_allowed",
                           fields={"witness": ["Not an active clinician or manager."]})


def _save(entry: LedgerEntry) -> LedgerEntry:
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def receive(*, by, location: Location, product: Product, lot_number: str, expiry: date, quantity: int,
            supplier: str, invoice_number: str, received_on: date) -> LedgerEntry:
    """Record stock received from a supplier into a lot at ``location`` (created when new).

    ``quantity`` is in the product's unit (devices, or mg: a vial's mg times the vials). A lot number already
    held at the location adds to that lot, whose expiry must be the same (409 ``lot_expiry_mismatch``).
    Refuses an inactive product or location, a receipt dated in the future or of stock already expired on
    the day received (409 ``lot_expired``).
    """
    if not has_role(by, MANAGER):
        raise NotAllowed("Only a manager receives stock.")
    quantity = _positive(quantity)
    lot_number = _required_text(lot_number, "lot_number", "The lot number is required.")
    supplier = _required_text(supplier, "supplier", "The supplier is required.")
    invoice_number = _required_text(invoice_number, "invoice_number", "The invoice number is required.")
    if not product.active:
        raise StockRefused(f"{product} is no longer stocked.", code="product_inactive",
                           fields={"product": ["This product is no longer stocked."]})
    if not location.active:
        raise StockRefused(f"{location} is closed.", code="location_inactive",
                           fields={"location": ["This location is no longer active."]})
    if received_on > location.local_date(timezone.now()):
        raise Invalid("A receipt cannot be dated in the future.", fields={"received_on": ["Not after today."]})
    if expiry < received_on:
        raise StockRefused(f"Lot {lot_number} expired on {expiry:%Y-%m-%d}, before it was received.",
                           code="lot_expired", fields={"expiry": ["Expired stock is not received."]})
    try:
        with transaction.atomic():
            lot, _ = Lot.objects.get_or_create(location=location, product=product, lot_number=lot_number,
                                               defaults={"expiry": expiry})
    except IntegrityError:  # another receipt of the same new lot committed first: add to that one
        lot = Lot.objects.get(location=location, product=product, lot_number=lot_number)
    lot = _locked(lot)
    if lot.expiry != expiry:
        raise StockRefused(
            f"Lot {lot_number} of {product} at {location} expires on {lot.expiry:%Y-%m-%d}, not {expiry:%Y-%m-%d}.",
            code="lot_expiry_mismatch", fields={"expiry": [f"This lot expires on {lot.expiry:%Y-%m-%d}."]})
    entry = _save(LedgerEntry(lot=lot, kind=EntryKind.RECEIPT, quantity=quantity, supplier=supplier,
                              invoice_number=invoice_number, received_on=received_on, by=by))
    lot.received_quantity += quantity
    lot.save(update_fields=["received_quantity"])
    return entry


@transaction.atomic
def dispense(*, by, session: Session, lot: Lot, quantity: int, dose: Dose | None = None,
             now: datetime | None = None) -> LedgerEntry:
    """Take ``quantity`` (whole devices, or mg) from ``lot`` for the dose given at ``session``.

    Refuses (409): a session cancelled or missed (``session_not_dosable``), a lot at another location
    (``lot_other_location``), of the wrong product for the session's protocol (``wrong_product``),
    expired on the session's local date (``lot_expired``), or holding less than asked (``lot_short``).
    """
    quantity = _positive(quantity)
    if session.status in RELEASED_STATUSES:
        raise StockRefused("A cancelled or missed session is given no dose.", code="session_not_dosable")
    lot = _locked(lot)
    if session.location_id != lot.location_id:
        raise StockRefused(f"Lot {lot.lot_number} is held at {lot.location}, not where this session is.",
                           code="lot_other_location", fields={"lot": ["Choose a lot held at this location."]})
    wanted = PRODUCT_KIND_FOR_MODALITY.get(session.course.protocol.modality)
    if lot.product.kind != wanted:
        raise StockRefused(f"Lot {lot.lot_number} is {lot.product}, not what this session's protocol gives.",
                           code="wrong_product", fields={"lot": ["Choose a lot of the product this protocol gives."]})
    if lot.is_expired_on(session.local_date):
        raise StockRefused(f"Lot {lot.lot_number} expired on {lot.expiry:%Y-%m-%d}.", code="lot_expired",
                           fields={"lot": ["This lot has expired."]})
    _refuse_if_short(lot, quantity)
    return _save(LedgerEntry(lot=lot, kind=EntryKind.DISPENSE, quantity=-quantity, session=session,
                             patient_id=session.patient_id, dose=dose, by=by, at=now or timezone.now()))


@transaction.atomic
def waste(*, by, witness, lot: Lot, quantity: int, reason: str, session: Session | None = None,
          now: datetime | None = None) -> LedgerEntry:
    """Record ``quantity`` destroyed or unused (the rest of an opened vial), seen by a second member of staff.

    Refuses a missing reason (400), the recorder as witness (409 ``witness_is_self``), a witness who is not an
    active clinician or manager (409 ``witness_not_allowed``), a session at another location
    (409 ``lot_other_location``) and more than the lot holds (409 ``lot_short``).
    """
    quantity = _positive(quantity)
    reason = _required_text(reason, "reason", "Say why the stock is wasted.")
    check_witness(by=by, witness=witness)
    lot = _locked(lot)
    if session is not None and session.location_id != lot.location_id:
        raise StockRefused(f"Lot {lot.lot_number} is held at {lot.location}, not where this session is.",
                           code="lot_other_location", fields={"lot": ["Choose a lot held at this location."]})
    _refuse_if_short(lot, quantity)
    return _save(LedgerEntry(lot=lot, kind=EntryKind.WASTE, quantity=-quantity, reason=reason, session=session,
                             patient_id=session.patient_id if session else None, by=by, witness=witness,
                             at=now or timezone.now()))


@transaction.atomic
def adjust(*, by, witness, lot: Lot, quantity: int, reason: str, corrects: LedgerEntry | None = None) -> LedgerEntry:
    """A manager's witnessed correction: ``quantity`` (+ or -, not 0) with a reason; never an edit of an entry.

    ``corrects`` names the entry it puts right, which must be of the same lot (400). Refuses a change that would
    take the balance below zero (409 ``lot_short``) and the witness rules of ``waste``.
    """
    if not has_role(by, MANAGER):
        raise NotAllowed("Only a manager adjusts stock.")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise Invalid("An adjustment changes the balance: a whole number other than 0.",
                      fields={"quantity": ["A whole number other than 0 (+ adds, - takes)."]})
    reason = _required_text(reason, "reason", "Say why the stock is adjusted.")
    check_witness(by=by, witness=witness)
    lot = _locked(lot)
    if corrects is not None and corrects.lot_id != lot.pk:
        raise Invalid("The entry corrected must be of the same lot.",
                      fields={"corrects": ["Not an entry of this lot."]})
    if quantity < 0:
        _refuse_if_short(lot, -quantity)
    return _save(LedgerEntry(lot=lot, kind=EntryKind.ADJUSTMENT, quantity=quantity, reason=reason, by=by,
                             witness=witness, corrects=corrects))


def _work_item_text(discrepancy: Discrepancy, lot: Lot) -> str:
    text = (f"{lot.product}, lot {lot.lot_number} at {lot.location}: counted {_unit(lot, discrepancy.counted)}, "
            f"the ledger says {_unit(lot, discrepancy.expected)} ({discrepancy.difference:+d}). "
            "A manager explains the difference.")
    if discrepancy.is_loss:
        text += " It is a loss: record whether a DEA Form 106 was filed or is needed."
    return text


@transaction.atomic
def count(*, by, lot: Lot, counted_quantity: int, now: datetime | None = None
          ) -> tuple[LedgerEntry, Discrepancy | None]:
    """Record a physical count of ``lot``; a count that differs from the balance opens a discrepancy.

    The lot is locked so the balance compared is the one at the moment of the count (no dose slips between
    the sum and the entry). A discrepancy opens a worklist item (``stock_discrepancy``) at the lot's location
    that closes when a manager explains it. The count moves no stock.
    """
    if not has_role(by, CLINICIAN, MANAGER):
        raise NotAllowed("Only clinicians and managers count stock.")
    if isinstance(counted_quantity, bool) or not isinstance(counted_quantity, int) or counted_quantity < 0:
        raise Invalid("The count is a whole number, 0 or more.", fields={"counted_quantity": ["0 or more."]})
    at = now or timezone.now()
    lot = _locked(lot)
    expected = balance(lot)
    entry = _save(LedgerEntry(lot=lot, kind=EntryKind.COUNT, quantity=0, counted_quantity=counted_quantity, by=by,
                              at=at))
    if counted_quantity == expected:
        return entry, None
    discrepancy = Discrepancy(lot=lot, count_entry=entry, expected=expected, counted=counted_quantity,
                              difference=counted_quantity - expected, opened_at=at)
    discrepancy.full_clean()
    discrepancy.save()
    WorkItem.objects.create(kind=WorkKind.STOCK_DISCREPANCY, subject=f"discrepancy:{discrepancy.pk}",
                            urgency=URGENCY[WorkKind.STOCK_DISCREPANCY], location=lot.location,
                            detail=_work_item_text(discrepancy, lot), due_on=lot.location.local_date(at), opened_at=at)
    return entry, discrepancy


@transaction.atomic
def explain(*, by, discrepancy: Discrepancy, explanation: str, loss_reported_dea106: bool,
            dea106_note: str = "") -> Discrepancy:
    """A manager's explanation of a count's difference; closes its worklist item.

    A loss (counted below the balance) needs a DEA Form 106 note: whether the form was filed, or why none is
    needed (400 without it); a surplus is not a loss and files no Form 106 (400). An explained discrepancy
    refuses a second explanation (409 ``already_explained``). The balance is not changed: a correction is an
    adjustment of its own.
    """
    if not has_role(by, MANAGER):
        raise NotAllowed("Only a manager explains a discrepancy.")
    explanation = _required_text(explanation, "explanation", "Explain the difference.")
    dea106_note = (dea106_note or "").strip()
    locked = Discrepancy.objects.select_for_update(of=("self",)).select_related("lot").get(pk=discrepancy.pk)
    if not locked.is_open:
        raise StockRefused("This discrepancy has been explained already.", code="already_explained",
                           extra={"explained_at": locked.explained_at})
    if locked.is_loss and not dea106_note:
        raise Invalid("A loss needs a note on DEA Form 106: filed (when, reference) or why none is needed.",
                      fields={"dea106_note": ["Say whether a DEA Form 106 was filed, or why none is needed."]})
    if not locked.is_loss and loss_reported_dea106:
        raise Invalid("A count above the balance is not a loss: no DEA Form 106 is filed for it.",
                      fields={"loss_reported_dea106": ["Only a loss is reported on Form 106."]})
    now = timezone.now()
    locked.explanation, locked.explained_by, locked.explained_at = explanation, by, now
    locked.loss_reported_dea106, locked.dea106_note = bool(loss_reported_dea106), dea106_note
    locked.full_clean()
    locked.save(update_fields=["explanation", "explained_by", "explained_at", "loss_reported_dea106",
                               "dea106_note"])
    WorkItem.objects.open().filter(kind=WorkKind.STOCK_DISCREPANCY, subject=f"discrepancy:{locked.pk}").update(
        closed_at=now, closed_by=by, resolution=explanation)
    return locked

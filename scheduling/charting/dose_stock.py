"""The dose drawn from the location's stock: esketamine in whole devices, IV in mg with the opened vial's rest wasted.

Called by ``services.record_dose`` inside its transaction, once the dose is
saved (the ledger's dispense entry names it). The stock services lock the
lot's row before they lower its balance, so two doses reaching for the last
device cannot both take it. Their refusals (expired, another location, short,
the wrong product) keep their 409 code and name the ``lot`` field, so the
chart shows them beside the lot that was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import authenticate

from clinic.errors import Conflict, Invalid
from protocols.models import Modality
from scheduling.models import Dose, Session
from scheduling.stock import services as stock


@dataclass(frozen=True)
class VialDraw:
    """An IV dose in a lot's vials: the mg given, the vials opened, the mg left in them (wasted)."""

    drawn_mg: int
    vials: int
    waste_mg: int


def vial_draw(dose_mg: Decimal, vial_mg: int) -> VialDraw:
    """The whole mg drawn for ``dose_mg`` (the ledger counts whole mg), the vials it opens and their rest."""
    drawn = max(1, int(Decimal(dose_mg).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    vials = -(-drawn // vial_mg)
    return VialDraw(drawn_mg=drawn, vials=vials, waste_mg=vials * vial_mg - drawn)


def check_witness(*, by, witness) -> None:
    """409 unless ``witness`` is an active clinician or manager other than the one dosing (the stock's own rule)."""
    try:
        stock.check_witness(by=by, witness=witness)
    except stock.StockRefused as refusal:
        raise _beside_the_field(refusal) from refusal


def _beside_the_field(refusal) -> Conflict:
    """The stock's refusal, its code kept, said beside the dose form's field it is about."""
    field = "witness_username" if refusal.code.startswith("witness") else "lot"
    return Conflict(refusal.detail, code=refusal.code, fields={field: [refusal.detail]}, extra=refusal.extra)


def confirm_witness(request, *, by, username: str, password: str):
    """The witness of a waste, confirmed by their own login; None when neither field is filled.

    The password is checked with ``authenticate`` and never kept; a wrong one
    counts towards that account's lockout like a failed sign-in, so the field
    cannot be used to guess a colleague's password. 400 naming the field when
    a field is missing or the login is not right; the witness is the one
    dosing (409 ``witness_is_self``) or not clinical staff (409 ``witness_not_allowed``).
    """
    username, password = (username or "").strip(), password or ""
    if not username and not password:
        return None
    errors = {}
    if not username:
        errors["witness_username"] = ["The witness types their username."]
    if not password:
        errors["witness_password"] = ["The witness types their password."]
    if errors:
        raise Invalid("The witness confirms with their own username and password.", fields=errors)
    if "\x00" in username or "\x00" in password:  # PostgreSQL text cannot hold NUL, and no login has one
        raise Invalid("The witness's username or password is not right.", code="witness_not_confirmed",
                      fields={"witness_password": ["Not right: the witness types their own username and password."]})
    witness = authenticate(request, username=username, password=password)
    if witness is None:
        raise Invalid("The witness's username or password is not right.", code="witness_not_confirmed",
                      fields={"witness_password": ["Not right: the witness types their own username and password."]})
    check_witness(by=by, witness=witness)
    return witness


def draw(dose: Dose, session: Session, *, by, lot, witness=None, now=None) -> list:
    """Draw ``dose`` from ``lot``: the dispense entry, and for an opened vial's rest a witnessed waste entry.

    Esketamine: the dose's devices in one entry. IV: the mg given (whole mg);
    when the vials opened are not used up, their rest is wasted, which needs
    ``witness`` (400 naming ``witness_username`` without one).
    """
    try:
        if session.course.modality != Modality.KETAMINE_IV:
            return [stock.dispense(by=by, session=session, lot=lot, quantity=dose.devices, dose=dose, now=now)]
        vials = vial_draw(dose.dose_mg, lot.product.strength_mg)
        entries = [stock.dispense(by=by, session=session, lot=lot, quantity=vials.drawn_mg, dose=dose, now=now)]
        if not vials.waste_mg:
            return entries
        if witness is None:
            raise Invalid(f"{vials.drawn_mg} mg leaves {vials.waste_mg} mg of the opened vial to waste: a second "
                          "member of staff witnesses it with their own login.", code="witness_required",
                          fields={"witness_username": ["A clinician or manager witnesses the waste."]})
        check_witness(by=by, witness=witness)
        reason = (f"Rest of {vials.vials} opened vial{'s' if vials.vials > 1 else ''} "
                  f"after a {vials.drawn_mg} mg infusion")
        entries.append(stock.waste(by=by, witness=witness, lot=lot, quantity=vials.waste_mg, reason=reason,
                                   session=session, now=now))
        return entries
    except stock.StockRefused as refusal:
        raise _beside_the_field(refusal) from refusal

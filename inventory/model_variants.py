"""Declaring a model a variant of another: the technique that made it, and a note."""

from django.db import transaction

from accounts.audit import audited_update
from greenai_portal.errors import ApplicationError
from inventory.models import AiModel, OptimisationTechnique


def _check_base(model: AiModel, base: AiModel) -> None:
    if base.organisation_id != model.organisation_id:
        raise ApplicationError("No such base model", status_code=404)
    ancestor = base
    while ancestor is not None:
        if ancestor.pk == model.pk:
            raise ApplicationError(
                f"{base.name} is {model.name} or one of its variants: a model cannot derive "
                "from itself"
            )
        ancestor = ancestor.base_model


@transaction.atomic
def model_variant_set(
    *,
    model: AiModel,
    base_model: AiModel | None,
    technique: str = "",
    precision: str = "",
    note: str = "",
    actor=None,
) -> AiModel:
    """Declare `model` a variant of `base_model` (None: not a variant), audited."""
    if base_model is None:
        technique, precision, note = "", "", ""
    else:
        _check_base(model, base_model)
        if technique not in OptimisationTechnique.values:
            raise ApplicationError(
                "Say how the variant was made: one of " + ", ".join(OptimisationTechnique.values)
            )
        if technique == OptimisationTechnique.QUANTISATION and not precision.strip():
            raise ApplicationError("A quantised variant names its precision (e.g. int8, fp8)")
        if technique != OptimisationTechnique.QUANTISATION and precision.strip():
            raise ApplicationError("Only a quantised variant has a precision")
    audited_update(
        model,
        action="model.variant_set",
        actor=actor,
        base_model_id=base_model.pk if base_model else None,
        technique=technique,
        precision=precision.strip(),
        variant_note=note.strip(),
    )
    return model

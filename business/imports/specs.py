"""One spec per import kind: the model, its provenance columns and what counts as a change.

The writer builds every statement from a spec, so adding a kind (or a provenance column) is a new entry here, not a
branch in the SQL.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from business.models import Achievement, Target, UploadBatch


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    model: type[Model]
    # Provenance written on every inserted/updated row besides value, upload_batch_id and updated_at: column → value.
    provenance: Callable[[AbstractBaseUser | None], dict[str, object]]
    # Columns whose difference (besides value) makes an existing row "update" rather than "unchanged".
    compared: tuple[str, ...] = ()

    @property
    def lock_name(self) -> str:
        return f"business.import.{self.kind}"


SPECS: dict[str, ImportSpec] = {
    UploadBatch.Kind.ACHIEVEMENTS: ImportSpec(
        kind=UploadBatch.Kind.ACHIEVEMENTS,
        model=Achievement,
        provenance=lambda user: {"source": "upload"},  # an upload takes over a computed row, even with the same value
        compared=("source",),
    ),
    UploadBatch.Kind.TARGETS: ImportSpec(
        kind=UploadBatch.Kind.TARGETS,
        model=Target,
        provenance=lambda user: {"set_by_id": user.pk if user else None},  # who set it changes only with the value
    ),
}
KINDS = {kind: spec.model for kind, spec in SPECS.items()}

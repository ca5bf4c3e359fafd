"""The FHIR tests' clinic (``fhir_world``, built once per module) and the desk's client (``desk``)."""

from tests.scheduling.fhir.fhir_world import desk, fhir_world

__all__ = ["desk", "fhir_world"]

"""Pydantic models of the CDS Hooks 2.0 documents (docs/criteria.md §5; spec "Discovery", "Calling a CDS
Service", "CDS Service Response", "Feedback").

The spec's JSON rule — "JSON elements SHALL NOT be null … SHALL NOT be empty (``""``, ``[]``, ``{}``) unless
otherwise specified; OPTIONAL attributes without a value are omitted" — is enforced by :class:`_SpecModel`: a field
that is present may not be null or empty, and :func:`dump` leaves absent optional fields out. The only empty value the
spec allows, ``{"cards": []}``, is handled on :class:`CdsResponse`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

Indicator = Literal["info", "warning", "critical"]
#: ordered by increasing urgency (spec "Card Attributes": indicator)
INDICATOR_ORDER: tuple[Indicator, ...] = ("info", "warning", "critical")


def _empty(value: Any) -> bool:
    # ``None`` means "absent" here (``dump`` omits it, so the service never emits a null); an incoming null is read
    # as the field being absent.
    return isinstance(value, str | list | dict) and len(value) == 0


class _SpecModel(BaseModel):
    # extra="allow" on requests would let unknown fields through; the spec reserves ``extension`` for that, so the
    # models forbid anything else and list ``extension`` where the service reads or writes it.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_null_or_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = [k for k, v in data.items() if _empty(v) and k not in cls._empty_allowed()]
            if bad:
                raise ValueError(
                    f"null or empty value not allowed (CDS Hooks JSON rule): {', '.join(sorted(bad))}"
                )
        return data

    @classmethod
    def _empty_allowed(cls) -> frozenset[str]:
        return frozenset()


def dump(model: BaseModel) -> dict[str, Any]:
    """JSON-ready dict without absent optional fields (spec: "implementers MUST omit it")."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Coding(_SpecModel):
    code: str
    system: str | None = None
    display: str | None = None


class Source(_SpecModel):
    label: str
    url: AnyUrl | None = None
    icon: AnyUrl | None = None
    topic: Coding | None = None


class Action(_SpecModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resource_id: str | None = Field(default=None, alias="resourceId")


class Suggestion(_SpecModel):
    label: str
    uuid: str | None = None
    is_recommended: bool | None = Field(default=None, alias="isRecommended")
    actions: list[Action] | None = None


class Link(_SpecModel):
    label: str
    url: AnyUrl
    type: Literal["absolute", "smart"]
    app_context: str | None = Field(default=None, alias="appContext")
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _app_context_smart_only(self) -> Link:
        if self.app_context is not None and self.type != "smart":
            raise ValueError("appContext is only valid for smart links")
        return self


class Card(_SpecModel):
    uuid: str | None = None
    #: spec: "One-sentence, <140-character summary" — enforced strictly (139 characters at most)
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Indicator
    source: Source
    suggestions: list[Suggestion] | None = None
    selection_behavior: Literal["at-most-one", "any"] | None = Field(default=None, alias="selectionBehavior")
    override_reasons: list[Coding] | None = Field(default=None, alias="overrideReasons")
    links: list[Link] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _conditional_fields(self) -> Card:
        if self.suggestions and self.selection_behavior is None:
            raise ValueError("selectionBehavior is REQUIRED when suggestions are present")
        for reason in self.override_reasons or ():
            if not reason.display:
                raise ValueError("every overrideReasons Coding must have a display")
        return self


class CdsResponse(_SpecModel):
    cards: list[Card]
    system_actions: list[Action] | None = Field(default=None, alias="systemActions")
    extension: dict[str, Any] | None = None

    @classmethod
    def _empty_allowed(cls) -> frozenset[str]:
        return frozenset({"cards"})  # spec: {"cards": []} when there is no decision support


class ServiceDescription(_SpecModel):
    hook: str
    title: str | None = None
    description: str
    id: str
    prefetch: dict[str, str] | None = None
    usage_requirements: str | None = Field(default=None, alias="usageRequirements")
    extension: dict[str, Any] | None = None


class Discovery(_SpecModel):
    services: list[ServiceDescription]

    @classmethod
    def _empty_allowed(cls) -> frozenset[str]:
        return frozenset({"services"})


# ---- requests --------------------------------------------------------------------------------------------------
class FhirAuthorization(BaseModel):
    # Lenient on extra fields (clients add e.g. refresh hints); the token is never logged or echoed.
    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1, repr=False)
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None

    @field_validator("token_type", mode="before")
    @classmethod
    def _bearer_any_case(cls, value: Any) -> Any:
        # OAuth 2.0 token types are case-insensitive (RFC 6749 section 5.1): "bearer" is "Bearer".
        return "Bearer" if isinstance(value, str) and value.lower() == "bearer" else value


class PatientViewContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(alias="userId", min_length=1)
    patient_id: str = Field(alias="patientId", min_length=1, pattern=r"^[A-Za-z0-9\-.]{1,64}$")
    encounter_id: str | None = Field(default=None, alias="encounterId")

    @field_validator("user_id")
    @classmethod
    def _user_reference(cls, value: str) -> str:
        # patient-view: userId is Practitioner/…, PractitionerRole/…, Patient/… or RelatedPerson/…
        prefixes = ("Practitioner/", "PractitionerRole/", "Patient/", "RelatedPerson/")
        if not value.startswith(prefixes):
            raise ValueError(f"userId must start with one of {', '.join(prefixes)}")
        return value


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    hook: str
    hook_instance: str = Field(alias="hookInstance", min_length=1)
    fhir_server: AnyUrl | None = Field(default=None, alias="fhirServer")
    fhir_authorization: FhirAuthorization | None = Field(default=None, alias="fhirAuthorization")
    context: PatientViewContext
    prefetch: dict[str, Any] | None = None
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        if self.fhir_authorization is not None and self.fhir_server is None:
            raise ValueError("fhirServer is REQUIRED when fhirAuthorization is given")
        return self


class AcceptedSuggestion(_SpecModel):
    id: str


class OverrideReason(_SpecModel):
    reason: Coding | None = None
    user_comment: str | None = Field(default=None, alias="userComment")


class FeedbackItem(_SpecModel):
    card: str
    outcome: Literal["accepted", "overridden"]
    accepted_suggestions: list[AcceptedSuggestion] | None = Field(default=None, alias="acceptedSuggestions")
    override_reason: OverrideReason | None = Field(default=None, alias="overrideReason")
    outcome_timestamp: datetime = Field(alias="outcomeTimestamp")
    # The spec's extension point (any JSON object); accepted and not stored (it may hold anything).
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _conditional(self) -> FeedbackItem:
        if self.outcome == "accepted" and not self.accepted_suggestions:
            raise ValueError("acceptedSuggestions is REQUIRED for an accepted outcome")
        if self.outcome_timestamp.tzinfo is None:
            raise ValueError("outcomeTimestamp must be an ISO 8601 timestamp in UTC")
        return self


class FeedbackRequest(_SpecModel):
    feedback: list[FeedbackItem] = Field(min_length=1)
    extension: dict[str, Any] | None = None

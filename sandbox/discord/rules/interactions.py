"""What Discord refuses in an interaction response (``POST /interactions/{id}/{token}/callback``).

Docs, "Receiving and Responding": autocomplete results answer only autocomplete
interactions; DEFERRED_UPDATE_MESSAGE and UPDATE_MESSAGE only component-based ones;
a modal is not an answer to a modal submit (nor to an autocomplete, which takes only
results). Message data is checked by :mod:`.messages` under ``data``.
"""

from __future__ import annotations

from typing import Any

from ..errors import FormErrors
from ..models import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    JSON,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionRecord,
)
from .messages import CUSTOM_ID_MAX, check_message

CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE = 4, 5
DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
KNOWN_TYPES = (1, 4, 5, 6, 7, 8, 9, 10, 12)

AUTOCOMPLETE_CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
MODAL_TITLE_MAX = 45
MODAL_COMPONENTS_MAX = 5
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_PLACEHOLDER_MAX = 100
TEXT_INPUT_VALUE_MAX = 4000


def allowed_types(record: InteractionRecord) -> tuple[int, ...]:
    """The callback types Discord accepts for this interaction."""
    if record.type == APPLICATION_COMMAND_AUTOCOMPLETE:
        return (AUTOCOMPLETE_RESULT,)
    if record.type == APPLICATION_COMMAND:
        return (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL, 10, 12)
    if record.type == MESSAGE_COMPONENT:
        return (
            CHANNEL_MESSAGE,
            DEFERRED_CHANNEL_MESSAGE,
            DEFERRED_UPDATE_MESSAGE,
            UPDATE_MESSAGE,
            MODAL,
            10,
            12,
        )
    if record.type == MODAL_SUBMIT:
        updates = (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) if record.from_message else ()
        return (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, *updates)
    return (1,)


def check_callback(body: JSON, record: InteractionRecord) -> FormErrors:
    errors = FormErrors()
    rtype = body.get("type")
    if rtype not in KNOWN_TYPES:
        errors.choices(("type",), KNOWN_TYPES)
        return errors
    allowed = allowed_types(record)
    if rtype not in allowed:
        errors.choices(("type",), allowed)
        return errors
    data = body.get("data") or {}
    if not isinstance(data, dict):
        errors.add(("data",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return errors
    if rtype in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
        check_message(data, errors, at=("data",))
    elif rtype == AUTOCOMPLETE_RESULT:
        _check_choices(data.get("choices"), errors)
    elif rtype == MODAL:
        _check_modal(data, errors)
    return errors


def _check_choices(choices: Any, errors: FormErrors) -> None:
    if not isinstance(choices, list):
        return
    if len(choices) > AUTOCOMPLETE_CHOICES_MAX:
        errors.max_length(("data", "choices"), AUTOCOMPLETE_CHOICES_MAX)
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        name = choice.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_NAME_MAX:
            errors.bad_length(("data", "choices", i, "name"), 1, CHOICE_NAME_MAX)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_STRING_VALUE_MAX:
            errors.max_length(("data", "choices", i, "value"), CHOICE_STRING_VALUE_MAX)


def _check_modal(data: JSON, errors: FormErrors) -> None:
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MODAL_TITLE_MAX:
        errors.bad_length(("data", "title"), 1, MODAL_TITLE_MAX)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID_MAX:
        errors.bad_length(("data", "custom_id"), 1, CUSTOM_ID_MAX)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        errors.bad_length(("data", "components"), 1, MODAL_COMPONENTS_MAX)
        if not isinstance(components, list):
            return
    seen: set[str] = set()
    for r, row in enumerate(components):
        if not isinstance(row, dict):
            continue
        children = row.get("components") or ([row["component"]] if "component" in row else [])
        for k, child in enumerate(children):
            if not isinstance(child, dict) or child.get("type") != 4:
                continue
            path = ("data", "components", r, "components", k)
            cid = child.get("custom_id")
            if not isinstance(cid, str) or not 1 <= len(cid) <= CUSTOM_ID_MAX:
                errors.bad_length((*path, "custom_id"), 1, CUSTOM_ID_MAX)
            elif cid in seen:
                errors.add(
                    (*path, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            else:
                seen.add(cid)
            for key, limit in (
                ("label", TEXT_INPUT_LABEL_MAX),
                ("placeholder", TEXT_INPUT_PLACEHOLDER_MAX),
                ("value", TEXT_INPUT_VALUE_MAX),
            ):
                text = child.get(key)
                if isinstance(text, str) and len(text) > limit:
                    errors.max_length((*path, key), limit)

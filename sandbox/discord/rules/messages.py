"""What Discord refuses in a message body, wherever a message is created or edited.

Channel messages and DMs, interaction responses (types 4 and 7), followups and
webhook edits all go through :func:`check_message`; the refusals are added to a
:class:`FormErrors` under ``at`` (``("data",)`` inside an interaction callback), so the
``errors`` tree names the field the way Discord does. Sources: the README's rule table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ApiError, FormErrors, Path
from ..models import IS_COMPONENTS_V2, JSON

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_NAME_MAX = 256
EMBEDS_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_WIDTH = 5
COMPONENTS_V2_MAX = 40
BUTTON_LABEL_MAX = 80
BUTTON_URL_MAX = 512
CUSTOM_ID_MAX = 100
SELECT_OPTIONS_MAX = 25
SELECT_OPTION_TEXT_MAX = 100
SELECT_PLACEHOLDER_MAX = 150
SELECT_VALUES_MAX = 25
MENTION_IDS_MAX = 100
NONCE_MAX = 25
MENTION_TYPES = ("roles", "users", "everyone")

BUTTON = 2
SELECTS = frozenset({3, 5, 6, 7, 8})
INTERACTIVE = SELECTS | {BUTTON}
LINK_STYLE, PREMIUM_STYLE = 5, 6


def _measured(value: Any) -> int:
    """Embed limits count characters without leading and trailing whitespace (docs)."""
    return len(value.strip()) if isinstance(value, str) else 0


def check_message(
    body: JSON, errors: FormErrors, *, at: Path = (), nonce_allowed: bool = False
) -> None:
    """Adds every refusal of the fields present in ``body`` to ``errors``."""
    at = tuple(at)
    content = body.get("content")
    if content is not None:
        if not isinstance(content, str):
            errors.add(
                (*at, "content"), "STRING_TYPE_CONVERT", "Could not interpret value as string."
            )
        elif len(content) > CONTENT_MAX:
            errors.max_length((*at, "content"), CONTENT_MAX)
    embeds = body.get("embeds")
    if embeds is not None:
        _check_embeds(embeds, errors, at)
    flags = int(body.get("flags") or 0)
    components = body.get("components")
    if components:
        if flags & IS_COMPONENTS_V2:
            _check_components_v2(components, errors, at)
            for key in ("content", "embeds"):
                if body.get(key):
                    errors.add(
                        (*at, key),
                        "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                        "The 'content' and 'embeds' fields cannot be used when using "
                        "MessageFlags.IS_COMPONENTS_V2",
                    )
        else:
            _check_action_rows(components, errors, at)
    mentions = body.get("allowed_mentions")
    if mentions is not None:
        _check_allowed_mentions(mentions, errors, at)
    if nonce_allowed and body.get("nonce") is not None:
        _check_nonce(body["nonce"], errors, at)


def refuse_if_empty(message: JSON, files: Sequence[object] = ()) -> None:
    """50006: a message needs content, an embed, a component, a file, a sticker or a poll."""
    content = message.get("content")
    has_content = isinstance(content, str) and content.strip() != ""
    if not (
        has_content
        or message.get("embeds")
        or message.get("components")
        or files
        or message.get("attachments")
        or message.get("sticker_ids")
        or message.get("poll")
    ):
        raise ApiError(400, 50006, "Cannot send an empty message", kind="invalid_body")


# ---------------------------------------------------------------------------- embeds


def _check_embeds(embeds: Any, errors: FormErrors, at: tuple[str | int, ...]) -> None:
    if not isinstance(embeds, list):
        return
    if len(embeds) > EMBEDS_MAX:
        errors.max_length((*at, "embeds"), EMBEDS_MAX)
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        path = (*at, "embeds", i)
        for key, limit in (("title", EMBED_TITLE_MAX), ("description", EMBED_DESCRIPTION_MAX)):
            size = _measured(embed.get(key))
            total += size
            if size > limit:
                errors.max_length((*path, key), limit)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            errors.max_length((*path, "fields"), EMBED_FIELDS_MAX)
        for j, embed_field in enumerate(fields):
            if not isinstance(embed_field, dict):
                continue
            for key, limit in (("name", EMBED_FIELD_NAME_MAX), ("value", EMBED_FIELD_VALUE_MAX)):
                size = _measured(embed_field.get(key))
                total += size
                if size == 0:
                    errors.required((*path, "fields", j, key))
                elif size > limit:
                    errors.max_length((*path, "fields", j, key), limit)
        for part, key, limit in (
            ("footer", "text", EMBED_FOOTER_MAX),
            ("author", "name", EMBED_AUTHOR_NAME_MAX),
        ):
            holder = embed.get(part)
            if isinstance(holder, dict):
                size = _measured(holder.get(key))
                total += size
                if size > limit:
                    errors.max_length((*path, part, key), limit)
    if total > EMBEDS_TOTAL_MAX:
        errors.add(
            (*at, "embeds"),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBEDS_TOTAL_MAX}",
        )


# ---------------------------------------------------------------------------- components


class _CustomIds:
    """``custom_id`` is 1-100 characters and unique within the message."""

    def __init__(self, errors: FormErrors) -> None:
        self._errors = errors
        self._seen: set[str] = set()

    def check(self, custom_id: Any, path: tuple[str | int, ...]) -> None:
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID_MAX:
            self._errors.bad_length((*path, "custom_id"), 1, CUSTOM_ID_MAX)
            return
        if custom_id in self._seen:
            self._errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        self._seen.add(custom_id)


def _check_action_rows(rows: Any, errors: FormErrors, at: tuple[str | int, ...]) -> None:
    if not isinstance(rows, list):
        return
    if len(rows) > ACTION_ROWS_MAX:
        errors.max_length((*at, "components"), ACTION_ROWS_MAX)
    ids = _CustomIds(errors)
    for r, row in enumerate(rows):
        path = (*at, "components", r)
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.add(
                path,
                "COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2",
                "Only action rows may be top-level components without the IS_COMPONENTS_V2 flag",
            )
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= ROW_WIDTH:
            errors.bad_length((*path, "components"), 1, ROW_WIDTH)
        width = 0
        for k, child in enumerate(children):
            if not isinstance(child, dict):
                continue
            cpath = (*path, "components", k)
            width += ROW_WIDTH if child.get("type") in SELECTS else 1
            if width > ROW_WIDTH and len(children) <= ROW_WIDTH:
                errors.add(
                    cpath,
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            _check_interactive(child, cpath, errors, ids)


def _check_components_v2(components: Any, errors: FormErrors, at: tuple[str | int, ...]) -> None:
    if not isinstance(components, list):
        return
    ids = _CustomIds(errors)
    total = 0
    stack: list[tuple[Any, tuple[str | int, ...]]] = [
        (c, (*at, "components", i)) for i, c in enumerate(components)
    ]
    while stack:
        component, path = stack.pop(0)
        if not isinstance(component, dict):
            continue
        total += 1
        if component.get("type") in INTERACTIVE:
            _check_interactive(component, path, errors, ids)
        for i, child in enumerate(component.get("components") or []):
            stack.append((child, (*path, "components", i)))
        if isinstance(component.get("accessory"), dict):
            stack.append((component["accessory"], (*path, "accessory")))
    if total > COMPONENTS_V2_MAX:
        errors.max_length((*at, "components"), COMPONENTS_V2_MAX)


def _check_interactive(
    component: JSON, path: tuple[str | int, ...], errors: FormErrors, ids: _CustomIds
) -> None:
    ctype = component.get("type")
    if ctype == BUTTON:
        _check_button(component, path, errors, ids)
    elif ctype in SELECTS:
        ids.check(component.get("custom_id"), path)
        placeholder = component.get("placeholder")
        if isinstance(placeholder, str) and len(placeholder) > SELECT_PLACEHOLDER_MAX:
            errors.max_length((*path, "placeholder"), SELECT_PLACEHOLDER_MAX)
        for key, low in (("min_values", 0), ("max_values", 1)):
            value = component.get(key)
            if isinstance(value, int) and not low <= value <= SELECT_VALUES_MAX:
                errors.add(
                    (*path, key),
                    "NUMBER_TYPE_MAX" if value > SELECT_VALUES_MAX else "NUMBER_TYPE_MIN",
                    f"int value should be between {low} and {SELECT_VALUES_MAX}.",
                )
        if ctype == 3:
            _check_select_options(component.get("options"), path, errors)


def _check_button(
    button: JSON, path: tuple[str | int, ...], errors: FormErrors, ids: _CustomIds
) -> None:
    style = button.get("style")
    label = button.get("label")
    if isinstance(label, str) and len(label) > BUTTON_LABEL_MAX:
        errors.max_length((*path, "label"), BUTTON_LABEL_MAX)
    has_id = button.get("custom_id") is not None
    has_url = button.get("url") is not None
    if style not in (1, 2, 3, 4, LINK_STYLE, PREMIUM_STYLE):
        errors.choices((*path, "style"), [1, 2, 3, 4, 5, 6])
        return
    if style == LINK_STYLE:
        if not has_url:
            errors.required((*path, "url"))
        elif len(str(button["url"])) > BUTTON_URL_MAX:
            errors.max_length((*path, "url"), BUTTON_URL_MAX)
        if has_id:
            errors.add(
                path,
                "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
                "A custom id and url cannot both be specified",
            )
        return
    if style == PREMIUM_STYLE:
        if button.get("sku_id") is None:
            errors.required((*path, "sku_id"))
        for key in ("custom_id", "url", "label", "emoji"):
            if button.get(key) is not None:
                errors.add(
                    (*path, key),
                    "BUTTON_COMPONENT_PREMIUM_FIELD_INVALID",
                    "Premium buttons cannot have a custom id, url, label or emoji",
                )
        return
    if not has_id:
        errors.add(path, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required")
    else:
        ids.check(button.get("custom_id"), path)
    if has_url:
        errors.add(
            path,
            "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
            "A custom id and url cannot both be specified",
        )


def _check_select_options(options: Any, path: tuple[str | int, ...], errors: FormErrors) -> None:
    if not isinstance(options, list) or not 1 <= len(options) <= SELECT_OPTIONS_MAX:
        errors.bad_length((*path, "options"), 1, SELECT_OPTIONS_MAX)
        if not isinstance(options, list):
            return
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        opath = (*path, "options", i)
        for key in ("label", "value"):
            text = option.get(key)
            if not isinstance(text, str) or not 1 <= len(text) <= SELECT_OPTION_TEXT_MAX:
                errors.bad_length((*opath, key), 1, SELECT_OPTION_TEXT_MAX)
        description = option.get("description")
        if isinstance(description, str) and len(description) > SELECT_OPTION_TEXT_MAX:
            errors.max_length((*opath, "description"), SELECT_OPTION_TEXT_MAX)


# ---------------------------------------------------------------------------- mentions, nonce


def _check_allowed_mentions(mentions: Any, errors: FormErrors, at: tuple[str | int, ...]) -> None:
    if not isinstance(mentions, dict):
        return
    path = (*at, "allowed_mentions")
    parse = mentions.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in MENTION_TYPES:
            errors.choices((*path, "parse", i), MENTION_TYPES)
    for key in ("users", "roles"):
        ids = mentions.get(key) or []
        if len(ids) > MENTION_IDS_MAX:
            errors.max_length((*path, key), MENTION_IDS_MAX)
        if ids and key in parse:
            errors.add(
                path,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )


def _check_nonce(nonce: Any, errors: FormErrors, at: tuple[str | int, ...]) -> None:
    path = (*at, "nonce")
    if isinstance(nonce, bool) or not isinstance(nonce, str | int):
        errors.add(path, "NONCE_TYPE_INVALID_TYPE", "This field must be a string or integer.")
    elif isinstance(nonce, str) and len(nonce) > NONCE_MAX:
        errors.add(path, "NONCE_TYPE_TOO_LONG", f"Must be {NONCE_MAX} or fewer characters long.")
    elif isinstance(nonce, int) and not -(2**63) <= nonce < 2**63:
        errors.add(
            path,
            "NONCE_TYPE_OUT_OF_BOUNDS",
            "Must be between -9223372036854775808 and 9223372036854775807.",
        )

"""Discord's refusals (400 50035 and friends), one module per kind of request body."""

from .commands import check_command, check_command_list, refuse_over_limit
from .interactions import allowed_types, check_callback
from .messages import check_message, refuse_if_empty

__all__ = [
    "allowed_types",
    "check_callback",
    "check_command",
    "check_command_list",
    "check_message",
    "refuse_if_empty",
    "refuse_over_limit",
]

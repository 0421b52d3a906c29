"""Every refusal the life cycle and the supervisor operations can give: a stable code and its parameters.

Pure: no I/O. A refusal's `str()` stays the English sentence written where it is raised (logs, the CLI,
English API callers); `code` and `params` let the dashboard say it in any language
(`dashboard.i18n.refusal`), the way grid/rules.py violations do.

Parameters are plain JSON values. Their names say what they hold, and the dashboard translates by name:
`action`, `status`, `role`, `family`, `level`, `expected`, `queue` are one value of the life cycle's
enums; `allowed`, `anyone`, `actions` (actions), `from_statuses` (statuses), `roles`, `escalation`
(levels) are lists of them; `assignment_role` and `other_role` are "primary" or "backup". A refusal of
the transition table says what the role may do from here (`allowed`), what accounts of any role may
(`anyone`, the workers' own actions left out) and whether the status is `final`. Every other
parameter is a code or a name shown as it is.
"""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable refusal codes; `transition.*` refuse an incident transition, `operation.*` a grid operation."""

    # Someone raised a refusal without a code of its own: the English message is all there is.
    REFUSED = "refused"
    # grid.lifecycle: the table
    UNKNOWN_ACTION = "transition.unknown_action"
    NO_SUCH_ACTION = "transition.no_such_action"
    UNKNOWN_ROLE = "transition.unknown_role"
    WRONG_STATUS = "transition.wrong_status"
    WRONG_ROLE = "transition.wrong_role"
    NOT_OWNER = "transition.not_owner"
    MAINTENANCE_ONLY = "transition.maintenance_only"
    NEEDS_NOTE = "transition.needs_note"
    # geodata.transitions: scope, evidence, escalation, deadline clock and dispatch targets
    OUT_OF_SCOPE = "transition.out_of_scope"
    BAD_MEDIA = "transition.bad_media"
    LEVEL_MOVED = "transition.level_moved"
    TOP_OF_LADDER = "transition.top_of_ladder"
    NO_CLOCK = "transition.no_clock"
    NOT_DUE = "transition.not_due"
    NOT_ON_VERIFICATION = "transition.not_on_verification"
    RESET_NEEDS_NOTE = "transition.reset_needs_note"
    NO_ACTIVE_WORKER = "transition.no_active_worker"
    WORKER_OUT_OF_SCOPE = "transition.worker_out_of_scope"
    WORKER_OTHER_COMMUNITY = "transition.worker_other_community"
    QUEUE_NEEDS_WORKER = "transition.queue_needs_worker"
    NO_COMMUNITY = "transition.no_community"
    OUTSIDE_DISTRICT = "transition.outside_district"
    NO_ROUTE = "transition.no_route"
    # grid.reassign and geodata.operations: who may, and the grid rules
    OP_UNKNOWN_ROLE = "operation.unknown_role"
    OP_SYSTEM_ROLE = "operation.system_role"
    OP_NOT_OPERATOR = "operation.not_operator"
    OP_OUT_OF_SCOPE = "operation.out_of_scope"
    OP_ALREADY_IN_SUB_GRID = "operation.already_in_sub_grid"
    OP_CROSSES_COMMUNITY = "operation.crosses_community"
    OP_LAST_BASE_GRID = "operation.last_base_grid"
    OP_BAD_ASSIGNMENT_ROLE = "operation.bad_assignment_role"
    OP_WORKER_RETIRED = "operation.worker_retired"
    OP_WORKER_OTHER_COMMUNITY = "operation.worker_other_community"
    OP_ALREADY_ASSIGNED = "operation.already_assigned"
    OP_HOLDS_OTHER_ROLE = "operation.holds_other_role"
    OP_NO_USER = "operation.no_user"
    OP_USER_DISABLED = "operation.user_disabled"
    OP_NO_SUB_GRID = "operation.no_sub_grid"
    OP_NO_BASE_GRID = "operation.no_base_grid"
    OP_NO_WORKER = "operation.no_worker"
    OP_REASON_REQUIRED = "operation.reason_required"
    OP_GRID_RULES = "operation.grid_rules"
    # workers.analysis: an early warning turned into a case
    CASE_NO_WARNING = "case.no_warning"
    CASE_NOT_OPEN = "case.not_open"
    CASE_NO_MATTER = "case.no_matter"
    CASE_INACTIVE_MATTER = "case.inactive_matter"


# A refusal of the table names what the role may do from here, and what any role may.
_TABLE = ("action", "status", "role", "allowed", "anyone", "final")
_ON = ("action", "status")

# code -> the parameters it carries, always all of them (a value may be None).
PARAMS: dict[Code, tuple[str, ...]] = {
    Code.REFUSED: ("detail",),
    Code.UNKNOWN_ACTION: _TABLE,
    Code.NO_SUCH_ACTION: ("action", "actions"),
    Code.UNKNOWN_ROLE: (*_ON, "role", "roles"),
    Code.WRONG_STATUS: (*_TABLE, "from_statuses"),
    Code.WRONG_ROLE: _TABLE,
    Code.NOT_OWNER: _TABLE,
    Code.MAINTENANCE_ONLY: (*_TABLE, "family"),
    Code.NEEDS_NOTE: _TABLE,
    Code.OUT_OF_SCOPE: (*_ON, "role", "where", "scope"),
    Code.BAD_MEDIA: (*_ON, "role", "ref"),
    Code.LEVEL_MOVED: (*_ON, "level", "expected"),
    Code.TOP_OF_LADDER: (*_ON, "level", "escalation"),
    Code.NO_CLOCK: _ON,
    Code.NOT_DUE: _ON,
    Code.NOT_ON_VERIFICATION: (*_ON, "queue"),
    Code.RESET_NEEDS_NOTE: _ON,
    Code.NO_ACTIVE_WORKER: (*_ON, "worker"),
    Code.WORKER_OUT_OF_SCOPE: (*_ON, "worker", "community", "scope"),
    Code.WORKER_OTHER_COMMUNITY: (*_ON, "worker", "community", "incident_community"),
    Code.QUEUE_NEEDS_WORKER: (*_ON, "queue"),
    Code.NO_COMMUNITY: _ON,
    Code.OUTSIDE_DISTRICT: (*_ON, "queue"),
    Code.NO_ROUTE: (*_ON, "queue"),
    Code.OP_UNKNOWN_ROLE: ("user", "role"),
    Code.OP_SYSTEM_ROLE: ("user",),
    Code.OP_NOT_OPERATOR: ("user", "role", "roles"),
    Code.OP_OUT_OF_SCOPE: ("user", "scope", "area"),
    Code.OP_ALREADY_IN_SUB_GRID: ("base_grid", "sub_grid"),
    Code.OP_CROSSES_COMMUNITY: ("base_grid", "community", "sub_grid", "sub_grid_community"),
    Code.OP_LAST_BASE_GRID: ("base_grid", "sub_grid"),
    Code.OP_BAD_ASSIGNMENT_ROLE: ("assignment_role",),
    Code.OP_WORKER_RETIRED: ("worker",),
    Code.OP_WORKER_OTHER_COMMUNITY: ("worker", "community", "sub_grid", "sub_grid_community"),
    Code.OP_ALREADY_ASSIGNED: ("worker", "assignment_role", "sub_grid"),
    Code.OP_HOLDS_OTHER_ROLE: ("worker", "other_role", "sub_grid"),
    Code.OP_NO_USER: ("user",),
    Code.OP_USER_DISABLED: ("user",),
    Code.OP_NO_SUB_GRID: ("sub_grid",),
    Code.OP_NO_BASE_GRID: ("base_grid",),
    Code.OP_NO_WORKER: ("worker",),
    Code.OP_REASON_REQUIRED: (),
    Code.OP_GRID_RULES: ("detail", "codes"),
    Code.CASE_NO_WARNING: ("warning",),
    Code.CASE_NOT_OPEN: ("warning",),
    Code.CASE_NO_MATTER: ("warning",),
    Code.CASE_INACTIVE_MATTER: ("matter",),
}


class Refusal(ValueError):
    """A refused request: `str()` is the English sentence; `code` and `params` let any interface say it."""

    def __init__(self, message: str, code: Code | str = Code.REFUSED, **params):
        super().__init__(message)
        # Code() fails loudly on a code nobody registered: every refusal must be translatable.
        self.code = Code(code)
        self.params = dict(params) if self.code is not Code.REFUSED else {"detail": message, **params}

    def as_dict(self) -> dict:
        """The code and parameters as JSON for an API answer."""
        return {"code": self.code.value, "params": self.params}

"""The SCIM Groups of one organisation for scim2-server: its access roles (``idp.scim.groups``).

The directory reads them (list, ``displayName eq`` filter, paging, GET with members) and changes
their members (PATCH add/remove, PUT); it cannot create, rename or delete one: a POST with the
name of an existing Group is a 409 (``uniqueness``, so Entra ID matches it), any other POST and a
DELETE are a 403.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    ConflictException,
    ForbiddenException,
    InvalidValueException,
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    UniquenessException,
)

from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import Actor, OrgError, account_of
from idp.scim import groups
from idp.scim.groups import AccessGroup
from idp.scim.models import ScimUser

NOT_CREATED = "Groups are the roles on the organisation's accounts: a directory cannot create or delete one"


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class GroupStorage:
    """Reads and changes the members of an organisation's Groups, acting as its SCIM token."""

    def __init__(self, org: Organisation, actor: Actor, model: type[Resource[Any]]):
        self.org = org
        self.actor = actor
        self.model = model

    def _group(self, group_id: str) -> AccessGroup:
        group = groups.group_of(self.org, group_id)
        if group is None:
            raise NotFoundException(detail=f"No Group {group_id}")
        return group

    def _resource(self, group: AccessGroup) -> Resource[Any]:
        member_ids = groups.member_ids(self.org, group)
        users = {
            row.id: row for row in db.session.scalars(db.select(ScimUser).where(ScimUser.id.in_(member_ids)))
        }
        members = [
            {
                "value": scim_id,
                "$ref": f"Users/{scim_id}",
                "type": "User",
                "display": _display(users[scim_id]),
            }
            for scim_id in member_ids
            if scim_id in users
        ]
        resource = self.model.model_validate(
            {"id": group.id, "displayName": group.display_name, "members": members}
        )
        account = account_of(self.org, group.connector, group.account)
        since = _aware(account.created_at) if account is not None else None
        digest = hashlib.sha256(json.dumps(member_ids).encode()).hexdigest()[:16]
        resource.meta = Meta(
            resource_type="Group", created=since, last_modified=since, version=f'W/"{digest}"'
        )
        return resource

    def get(self, group_id: str) -> Resource[Any]:
        return self._resource(self._group(group_id))

    def all(self) -> list[Resource[Any]]:
        return [self._resource(group) for group in groups.groups_of(self.org)]

    def create(self, resource: Resource[Any]) -> Resource[Any]:
        name = str(getattr(resource, "display_name", "") or "")
        if any(group.display_name.casefold() == name.casefold() for group in groups.groups_of(self.org)):
            raise UniquenessException(detail=f"The Group {name!r} exists: look it up by displayName")
        raise ForbiddenException(detail=NOT_CREATED)

    def delete(self, group_id: str) -> None:
        self._group(group_id)
        raise ForbiddenException(detail=NOT_CREATED)

    def update(self, resource: Resource[Any], expected_version: str | None) -> Resource[Any]:
        """The new members (a PATCH already applied, or a PUT): remove the missing ones with the
        J8 cascade, give the role to the new ones. The name stays the derived one."""
        group = self._group(str(resource.id))
        current = self._resource(group)
        if (
            expected_version is not None
            and current.meta is not None
            and expected_version != current.meta.version
        ):
            raise PreconditionFailedException(detail="The Group has changed since")
        before = groups.member_ids(self.org, group)
        wanted = [str(member.value) for member in getattr(resource, "members", None) or [] if member.value]
        users = {scim_id: self._user(scim_id) for scim_id in set(before) | set(wanted)}
        try:
            for scim_id in before:
                if scim_id not in wanted:
                    groups.remove_member(self.actor, self.org, group, users[scim_id])
            for scim_id in dict.fromkeys(wanted):
                if scim_id not in before:
                    groups.add_member(self.actor, self.org, group, users[scim_id])
        except OrgError as error:
            db.session.rollback()
            raise ConflictException(detail=str(error)) from error
        return self._resource(group)

    def _user(self, scim_id: str) -> ScimUser:
        row = db.session.get(ScimUser, scim_id)
        if row is None or row.org_id != self.org.id:
            raise InvalidValueException(detail=f"No User {scim_id} to be a member")
        return row


def _display(user: ScimUser) -> str:
    data = json.loads(user.resource_json)
    return str(data.get("displayName") or user.user_name)

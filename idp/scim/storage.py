"""scim2-server's storage for one organisation: its SCIM Users, in ``scim_users``.

An organisation's directory holds hundreds of people, not millions: a search loads the
organisation's users and lets scim2-models evaluate the filter (every operator and attribute the
RFC allows, Entra's ``emails[type eq "work"].value eq`` included), then sorts and pages them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Generator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from scim2_models import (
    ConflictException,
    InvalidValueException,
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage

from idp.extensions import db
from idp.orgs.models import Organisation
from idp.orgs.services import Actor, OrgError
from idp.scim import services
from idp.scim.group_storage import GroupStorage
from idp.scim.models import ScimGroupWant, ScimUser
from idp.timeutil import utcnow

# Never kept: the password (returned "never", and people set their own), id and meta (columns).
NOT_KEPT = ("password", "id", "meta")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _version(row: ScimUser) -> str:
    return f'W/"{row.version}"'


class OrganisationStorage(ScimStorage):
    """The SCIM Users of one organisation, and its Groups (``GroupStorage``), acting as its token."""

    def __init__(
        self,
        org: Organisation,
        actor: Actor,
        model: type[Resource[Any]],
        group_model: type[Resource[Any]] | None = None,
    ):
        self.org = org
        self.actor = actor
        self.model = model
        self.groups = GroupStorage(org, actor, group_model) if group_model is not None else None

    def _groups_of(self, resource_type: ResourceType) -> GroupStorage | None:
        """The Groups' storage, when ``resource_type`` is Group."""
        return self.groups if resource_type.id == "Group" else None

    # --- reading --------------------------------------------------------------------------

    def _row(self, resource_id: str) -> ScimUser:
        row = db.session.get(ScimUser, resource_id)
        if row is None or row.org_id != self.org.id:
            raise NotFoundException(detail=f"No User {resource_id}")
        return row

    def _resource(self, row: ScimUser) -> Resource[Any]:
        data = json.loads(row.resource_json)
        data["id"] = row.id
        if "active" in data:  # the directory's own value; absent, the membership stays as it was
            data["active"] = row.active
        resource = self.model.model_validate(data)
        resource.meta = Meta(
            resource_type="User",
            created=_aware(row.created_at),
            last_modified=_aware(row.modified_at),
            version=_version(row),
        )
        return resource

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        group_storage = self._groups_of(resource_type)
        if group_storage is not None:
            return group_storage.get(resource_id)
        return self._resource(self._row(resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        found: list[Resource[Any]] = []
        for resource_type in resource_types:
            group_storage = self._groups_of(resource_type)
            if group_storage is not None:
                found += group_storage.all()
            else:
                rows = db.session.scalars(db.select(ScimUser).where(ScimUser.org_id == self.org.id))
                found += [self._resource(row) for row in rows]
        if search_request.filter is not None:
            found = [r for r in found if search_request.filter.match(r)]
        found.sort(key=lambda r: (_sort_key(search_request, r), r.id))
        if search_request.sort_order == SearchRequest.SortOrder.descending:
            found.reverse()
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    # --- writing --------------------------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        group_storage = self._groups_of(resource_type)
        if group_storage is not None:
            return group_storage.create(resource)
        data = _kept(resource)
        user_name = str(data.get("userName") or "")
        self._check_unique(user_name, None)
        row = ScimUser(
            id=str(uuid.uuid4()),
            org_id=self.org.id,
            user_name=user_name,
            user_name_key=user_name.casefold(),
            external_id=data.get("externalId"),
            active=data.get("active") is not False,
            resource_json=json.dumps(data),
        )
        db.session.add(row)
        db.session.flush()
        self._attempt(lambda: services.provision(self.actor, self.org, row, data))
        return self._resource(row)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        group_storage = self._groups_of(resource_type)
        if group_storage is not None:
            return group_storage.update(resource, expected_version)
        row = self._row(str(resource.id))
        self._check_version(row, expected_version)
        data = _kept(resource)
        user_name = str(data.get("userName") or "")
        self._check_unique(user_name, row.id)
        active = row.active if data.get("active") is None else bool(data["active"])
        if active != row.active:
            if active:
                self._attempt(lambda: services.reactivate(self.actor, self.org, row))
            else:
                self._attempt(lambda: services.deactivate(self.actor, self.org, row))
        row = self._row(row.id)  # the cascade committed: load it again
        row.user_name, row.user_name_key = user_name, user_name.casefold()
        row.external_id = data.get("externalId")
        row.active = active
        row.resource_json = json.dumps(data)
        row.version += 1
        row.modified_at = utcnow()
        self._attempt(lambda: services.ensure_invited(self.actor, self.org, row, data))
        db.session.commit()
        return self._resource(row)

    def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        group_storage = self._groups_of(resource_type)
        if group_storage is not None:
            group_storage.delete(resource_id)  # refused: raises
        row = self._row(resource_id)
        self._check_version(row, expected_version)
        if row.active:
            self._attempt(lambda: services.deactivate(self.actor, self.org, row))
        db.session.execute(db.delete(ScimGroupWant).where(ScimGroupWant.scim_user_id == resource_id))
        db.session.delete(self._row(resource_id))
        db.session.commit()

    @contextmanager
    def operation(self) -> Generator[None]:
        """A failed operation leaves nothing half done in the session."""
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise

    # --- the checks -----------------------------------------------------------------------

    def _check_unique(self, user_name: str, own_id: str | None) -> None:
        if not user_name:
            raise InvalidValueException(detail="userName is required")
        taken = db.session.scalar(
            db.select(ScimUser.id).where(
                ScimUser.org_id == self.org.id, ScimUser.user_name_key == user_name.casefold()
            )
        )
        if taken is not None and taken != own_id:
            raise UniquenessException(detail=f"userName {user_name!r} is already taken")

    @staticmethod
    def _check_version(row: ScimUser, expected: str | None) -> None:
        if expected is not None and expected != _version(row):
            raise PreconditionFailedException(detail="The User has changed since")

    @staticmethod
    def _attempt(call: Any) -> None:
        """Run a change of the organisation; its refusal is a SCIM error saying why."""
        try:
            call()
        except OrgError as error:
            db.session.rollback()
            raise ConflictException(detail=str(error)) from error


def _kept(resource: Resource[Any]) -> dict[str, Any]:
    """What ``scim_users`` keeps of a resource."""
    data: dict[str, Any] = resource.model_dump(mode="json", exclude_none=True)
    for key in NOT_KEPT:
        data.pop(key, None)
    return data


def _sort_key(search_request: SearchRequest[Any], resource: Resource[Any]) -> tuple[bool, str]:
    value = search_request.sort_value(resource) if search_request.sort_by else None
    return value is None, "" if value is None else str(value).casefold()

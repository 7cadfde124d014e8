"""Flask extensions, created once and bound to an app by ``init_app`` in the app factory."""

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData


def _count_breach(limit) -> None:
    """Count a request a Flask-Limiter limit refused (idp.metrics)."""
    from idp.metrics.counters import count_limiter_breach

    count_limiter_breach(limit)


def client_ip() -> str:
    """Return the client's address (ProxyFix has already applied trusted X-Forwarded-For)."""
    return request.remote_addr or "unknown"


# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_ip, key_prefix="idp", on_breach=_count_breach)
talisman = Talisman()
mail = Mail()

"""Extension instances, created unbound and attached to the app in :func:`app.create_app`."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from .data.base import Base

#: Flask-SQLAlchemy holds the model declarations and the *sync* engine that migrations use.
#: Requests never touch it: they use the async engine in :mod:`app.data.database`.
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()

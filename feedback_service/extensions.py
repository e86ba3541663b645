"""Extension objects, created unbound and attached to an app in the factory."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from feedback_service.models.base import Base

# Services return model objects that views serialise after the commit; keeping their loaded
# attributes avoids a second round of SELECTs (and a second transaction) per request.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# Only the console is signed in by cookie, so only it checks tokens (WTF_CSRF_CHECK_DEFAULT
# is off; the console's before_request calls `csrf.protect()`). The APIs take keys in headers.
csrf = CSRFProtect()

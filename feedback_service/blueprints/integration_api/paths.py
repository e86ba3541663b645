"""URL rules shared by the route modules (ids are read as integers by the blueprint)."""

PROJECT = "/projects/<project_id>"
CHANNEL = PROJECT + "/channels/<channel_id>"
FEEDBACK = CHANNEL + "/feedbacks/<feedback_id>"

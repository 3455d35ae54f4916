"""Every table, imported in one place so Alembic and create_app see the whole schema."""

from server.areas.models import Area
from server.forms.models import Form, FormMedia, FormVersion
from server.register.models import (Household, LifeEventRecord, MergeQueueEntry, Person, RegisterConflict,
                                    RegisterFieldValue, Visit)
from server.submissions.models import Submission, SubmissionAttachment
from server.users.models import User

__all__ = ["Area", "User", "Form", "FormVersion", "FormMedia", "Submission", "SubmissionAttachment", "Household",
           "Person", "RegisterFieldValue", "LifeEventRecord", "Visit", "RegisterConflict", "MergeQueueEntry"]

"""Every table, imported in one place so Alembic and create_app see the whole schema."""

from server.archive.models import ArchivedReport
from server.areas.models import Area
from server.audit.models import AuditEvent
from server.copies.models import PersonCopy
from server.exports.models import ReportRun
from server.forms.models import Form, FormMedia, FormVersion
from server.months.models import MonthSignoff, MonthSignoffStep
from server.notices.models import ServiceNotice, ServiceNoticeStep
from server.rechecks.models import Recheck, RecheckFinding, RecheckHousehold, RecheckSample
from server.register.models import (
                                    DuplicateCandidate,
                                    Household,
                                    LifeEventRecord,
                                    Person,
                                    PersonMatchKey,
                                    RegisterConflict,
                                    RegisterDecision,
                                    RegisterFieldValue,
                                    ServiceAnchor,
                                    SubmissionRecord,
                                    Visit,
                                    VisitReview,
)
from server.submissions.models import MergeQueueEntry, Submission, SubmissionAttachment
from server.users.models import AuthThrottle, CollectorFormDownload, DigestNonceUse, StaffSession, User

__all__ = ["Area", "AuditEvent", "User", "Form", "FormVersion", "FormMedia", "Submission", "SubmissionAttachment",
           "Household", "Person", "RegisterFieldValue", "LifeEventRecord", "ServiceAnchor", "Visit",
           "RegisterConflict", "MergeQueueEntry", "SubmissionRecord", "RegisterDecision", "DuplicateCandidate",
           "PersonMatchKey", "VisitReview", "ReportRun", "StaffSession", "AuthThrottle", "DigestNonceUse",
           "ArchivedReport", "MonthSignoff", "MonthSignoffStep", "CollectorFormDownload",
           "RecheckSample", "RecheckHousehold", "Recheck", "RecheckFinding", "ServiceNotice", "ServiceNoticeStep",
           "PersonCopy"]

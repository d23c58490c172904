"""Tables, the database engine and the statements that read them: all SQL lives here."""

from models.activities import Activity
from models.audit import AuditEvent
from models.database import Database
from models.mentors import ActivityType, Mentor
from models.milestones import Milestone, MilestoneDefinition
from models.statuses import MentorStatus, PauseRecord
from models.sync import IdempotencyRecord, SyncEvent

__all__ = [
    "Activity",
    "ActivityType",
    "AuditEvent",
    "Database",
    "IdempotencyRecord",
    "Mentor",
    "MentorStatus",
    "Milestone",
    "MilestoneDefinition",
    "PauseRecord",
    "SyncEvent",
]

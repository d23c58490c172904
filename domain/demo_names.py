"""What the demo organisation is made of: names, ids, regions, reasons and activity rhythms."""

from __future__ import annotations

FIRST_NAMES = (
    "Amara", "Aiko", "Mateo", "Priya", "Liam", "Fatima", "Chen", "Olga", "Kwame", "Sofia",
    "Arjun", "Yuki", "Noah", "Leila", "Diego", "Ingrid", "Tariq", "Mei", "Emeka", "Hannah",
    "Rafael", "Aisha", "Sven", "Lucía", "Ravi", "Nadia", "Tomasz", "Zanele", "Hiroshi", "Camille",
    "Omar", "Freya", "Jae-won", "Ananya", "Kofi", "Elena", "Mohammed", "Siobhan", "Thabo", "James",
)  # fmt: skip

LAST_NAMES = (
    "Okafor", "Tanaka", "García", "Sharma", "O'Brien", "Haddad", "Wang", "Petrov", "Mensah",
    "Rossi", "Patel", "Nakamura", "Müller", "Rahimi", "Fernández", "Johansson", "Khan", "Lin",
    "Nwosu", "Schmidt", "Silva", "Abdullah", "Lindqvist", "Moreno", "Iyer", "Kowalski", "Dlamini",
    "Sato", "Dubois", "Hassan", "Nielsen", "Park", "Kapoor", "Boateng", "Popescu", "Ali",
    "Murphy", "Ndlovu", "Costa", "Nguyen",
)  # fmt: skip

# Region name and its UTC offset in minutes (standard time; the demo ignores DST).
REGIONS = (
    ("uk-london", 0),
    ("eu-central", 60),
    ("west-africa", 60),
    ("south-africa", 120),
    ("east-africa", 180),
    ("south-asia", 330),
    ("southeast-asia", 480),
    ("east-asia", 540),
    ("oceania", 600),
    ("latam-south", -180),
    ("us-east", -300),
    ("us-west", -480),
)

COORDINATORS = (
    "coordinator-003",
    "coordinator-007",
    "coordinator-011",
    "coordinator-014",
    "coordinator-019",
)

PAUSE_REASONS = (
    "personal_leave",
    "certification_expiry",
    "health",
    "exam_period",
    "relocation",
    "family_care",
    "parental_leave",
    "Taking a short break",
    "Travelling for a few weeks",
)

SPECIAL_IDS = {1: "mentor_001", 7: "mntr_01HX4V2K8P", 42: "mentor-042"}  # used in the contracts
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WEEKDAY = (1.1, 1.2, 1.15, 1.1, 0.85, 0.2, 0.1)
SEASON = (1.1, 1.1, 1.15, 1.0, 0.95, 0.85, 0.6, 0.55, 1.1, 1.2, 1.15, 0.7)
ACTIVITY_TYPES = (  # id, weight, then duration in minutes: shortest, longest, most likely
    ("act_type_001", 45, 30, 90, 50),
    ("act_type_002", 11, 45, 120, 60),
    ("act_type_003", 20, 10, 30, 15),
    ("act_type_004", 18, 10, 45, 20),
    ("act_type_005", 6, 60, 180, 120),
)
# Activities on an average weekday: the share of mentors in each tier, and the tier's range.
RATE_TIERS = ((15, 1.2, 1.9), (40, 0.5, 1.0), (30, 0.15, 0.4), (15, 0.03, 0.08))
START_HOURS, START_WEIGHTS = range(8, 17), (3, 5, 5, 4, 2, 4, 4, 3, 2)

"""The dashboard's pure rules: records described and masked, viewers, the read model's folds and panels,
handling times and webhook health. No I/O; the read model (``store.py``) keeps what they fold.
"""

from services.dashboard.domain.read_model import *  # noqa: F403 - every public name of the read model's rules
from services.dashboard.domain.records import *  # noqa: F403 - every public name of the records' rules
from services.dashboard.domain.records import mask_text as mask_text

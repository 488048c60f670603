"""The item and the case the webhook and change-feed tests move: accepted in Suzhou, handled in Bozhou."""

from __future__ import annotations

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"
ITEM = {
    "code": "YRD-SB-0001", "name_zh": "社会保障卡申领", "name_en": "Social security card application",
    "area": "social_security", "modes": ["accepted_here_handled_there"], "ownership_rule": "insured_place",
    "committed_days": 5,
}
SUBMISSION = {"item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there",
              "ownership": {"insured_place": [BOZHOU]}, "applicant_id": "11010519491231002X"}

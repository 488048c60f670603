"""The names operators read for every event type, in Chinese and English.

The page shows these instead of the CloudEvents type. Every type that ``shared.contracts``
registers must have one (tests/unit/test_dashboard_vocabulary.py enumerates the registry).
Keys are the types without their version suffix: a new version keeps its name.
"""

from __future__ import annotations

EVENT_TYPE_NAMES: dict[str, tuple[str, str]] = {
    "cn.tongban.catalogue.item.published": ("事项发布", "Item published"),
    "cn.tongban.catalogue.item.withdrawn": ("事项撤回", "Item withdrawn"),
    "cn.tongban.catalogue.list.published": ("事项清单发布", "Item list published"),
    "cn.tongban.webhooks.subscription.failing": ("订阅推送失败", "Webhook subscription failing"),
    "cn.tongban.webhooks.subscription.resumed": ("订阅推送恢复", "Webhook subscription resumed"),
    "cn.tongban.webhooks.health.reported": ("推送健康报告", "Webhook health reported"),
    "cn.tongban.routing.case.submitted": ("案件提交", "Case submitted"),
    "cn.tongban.routing.case.forwarded": ("案件转递", "Case forwarded"),
    "cn.tongban.routing.case.status_changed": ("案件状态变更", "Case status changed"),
    "cn.tongban.routing.case.deadline_set": ("办理期限设定", "Deadline set"),
    "cn.tongban.routing.case.delivery_exception": ("结果送达异常", "Result delivery exception"),
    "cn.tongban.routing.case.result_revoked": ("审批结果撤销", "Result revoked"),
    "cn.tongban.routing.commitment.recorded": ("告知承诺已记录", "Commitment recorded"),
    "cn.tongban.routing.commitment.verified": ("告知承诺已核查", "Commitment verified"),
    "cn.tongban.routing.commitment.overdue": ("告知承诺核查逾期", "Commitment verification overdue"),
    "cn.tongban.routing.case.due_soon": ("案件临期", "Case due soon"),
    "cn.tongban.routing.case.overdue": ("案件逾期", "Case overdue"),
    "cn.tongban.routing.case.material_added": ("材料入卷", "Material added to the case file"),
    "cn.tongban.routing.case.result_document_issued": ("结果文书出具", "Result document issued"),
    "cn.tongban.routing.case.files_purged": ("案卷文件清除", "Case files purged"),
    "cn.tongban.routing.calendar.schedule_changed": ("法定工作日安排变更", "Working-day schedule changed"),
    "cn.tongban.routing.evaluation.given": ("办事评价", "Evaluation given"),
    "cn.tongban.routing.evaluation.rectification_opened": ("差评整改启动", "Rectification opened"),
    "cn.tongban.routing.evaluation.rectification_overdue": ("差评整改逾期", "Rectification overdue"),
    "cn.tongban.routing.evaluation.rectification_closed": ("差评整改办结", "Rectification closed"),
    "cn.tongban.routing.evaluation.appeal_decided": ("差评申诉裁定", "Evaluation appeal decided"),
    "cn.tongban.routing.delegation.used": ("委托授权决定复用", "Delegation decision reused"),
    "cn.tongban.delivery.waybill.created": ("运单创建", "Waybill created"),
    "cn.tongban.delivery.waybill.status_changed": ("寄递状态变更", "Waybill status changed"),
    "cn.tongban.delivery.waybill.late": ("寄递超时", "Delivery late"),
    "cn.tongban.delivery.receipt.confirmed": ("材料签收确认", "Receipt confirmed"),
    "cn.tongban.delivery.receipt.mismatch": ("材料不符", "Receipt mismatch"),
    "cn.tongban.authorization.client.registered": ("客户端注册", "Client registered"),
    "cn.tongban.authorization.client.revoked": ("客户端吊销", "Client revoked"),
    "cn.tongban.authorization.agreement.changed": ("协议变更", "Agreement changed"),
    "cn.tongban.authorization.consent.granted": ("授权同意", "Consent granted"),
    "cn.tongban.authorization.consent.revoked": ("撤回同意", "Consent revoked"),
    "cn.tongban.authorization.attestation.issued": ("受理证明签发", "Attestation issued"),
    "cn.tongban.authorization.licence.issued": ("电子证照签发", "Licence issued"),
    "cn.tongban.authorization.licence.revoked": ("电子证照撤销", "Licence revoked"),
}
"""Event type (without version) -> (Chinese name, English name)."""

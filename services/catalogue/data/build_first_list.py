# ruff: noqa: E501  (a data table: rows read better unbroken)
"""Build ``first_list.json``, the first list of the four localities (72 items), from the tables below.

Run ``python services/catalogue/data/build_first_list.py`` after editing this script; the
committed ``first_list.json`` is what the catalogue loads at start.

Provenance: the list's existence, its size (72 items), its four areas and the four cooperating
localities come from public reports of the April 2021 signing. The item names follow the naming
of the national list (国办发〔2020〕35号) and of Yangtze River Delta practice, but the actual
composition of the 72-item list was not available: every item is marked ``illustrative``. So are
all business standards, procedures and windows (departments, materials, time limits, fees,
addresses, hours, phone numbers): they are plausible, not official. Phone numbers are the public
12345 government-service hotline of each locality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

YANGPU, SUZHOU, TAIZHOU, BOZHOU = "310110", "320505", "331000", "341600"
LOCALITIES = (YANGPU, SUZHOU, TAIZHOU, BOZHOU)
ONLINE, HERE_THERE, JOINT = "fully_online", "accepted_here_handled_there", "joint_handling"
NATIONAL = "《国务院办公厅关于加快推进政务服务“跨省通办”的指导意见》（国办发〔2020〕35号）"

AREAS = [
    {"key": "market_supervision", "name_zh": "市场监管", "name_en": "Market supervision",
     "aliases": ["市场监督管理", "市监", "工商", "enterprise registration", "company registration"]},
    {"key": "social_security", "name_zh": "社会保障", "name_en": "Social security",
     "aliases": ["社保", "人社", "人力资源和社会保障", "养老保险", "公积金", "social insurance", "pension"]},
    {"key": "medical_insurance", "name_zh": "医疗保障", "name_en": "Medical insurance",
     "aliases": ["医保", "医疗保险", "health insurance", "healthcare security"]},
    {"key": "archive_query", "name_zh": "档案查询", "name_en": "Archive query",
     "aliases": ["档案", "查档", "records", "archives", "archive search"]},
    {"key": "civil_affairs", "name_zh": "民政", "name_en": "Civil affairs",
     "aliases": ["民政事务", "婚姻", "civil registration"]},
]

DEPARTMENTS: dict[str, dict[str, str]] = {
    "amr": {YANGPU: "上海市杨浦区市场监督管理局", SUZHOU: "苏州高新区（虎丘区）行政审批局",
            TAIZHOU: "台州市市场监督管理局", BOZHOU: "亳州市市场监督管理局"},
    "hrss": {YANGPU: "上海市杨浦区人力资源和社会保障局", SUZHOU: "苏州高新区（虎丘区）人力资源和社会保障局",
             TAIZHOU: "台州市人力资源和社会保障局", BOZHOU: "亳州市人力资源和社会保障局"},
    "hpf": {YANGPU: "上海市公积金管理中心杨浦区管理部", SUZHOU: "苏州市住房公积金管理中心高新区分中心",
            TAIZHOU: "台州市住房公积金管理中心", BOZHOU: "亳州市住房公积金管理中心"},
    "nhsa": {YANGPU: "上海市杨浦区医疗保障局", SUZHOU: "苏州市医疗保障局高新区分局",
             TAIZHOU: "台州市医疗保障局", BOZHOU: "亳州市医疗保障局"},
    "estate": {YANGPU: "上海市杨浦区不动产登记事务中心", SUZHOU: "苏州市不动产登记中心高新区分中心",
               TAIZHOU: "台州市不动产登记服务中心", BOZHOU: "亳州市不动产登记中心"},
    "civil": {YANGPU: "上海市杨浦区民政局", SUZHOU: "苏州高新区（虎丘区）民政局",
              TAIZHOU: "台州市民政局", BOZHOU: "亳州市民政局"},
    "archives": {YANGPU: "上海市杨浦区档案馆", SUZHOU: "苏州高新区（虎丘区）档案馆",
                 TAIZHOU: "台州市档案馆", BOZHOU: "亳州市档案馆"},
    "talent": {YANGPU: "上海市杨浦区人才服务中心", SUZHOU: "苏州高新区（虎丘区）人才服务中心",
               TAIZHOU: "台州市人才服务中心", BOZHOU: "亳州市人才服务中心"},
    "urban": {YANGPU: "上海市杨浦区城市建设档案管理部门", SUZHOU: "苏州市城建档案馆高新区分馆",
              TAIZHOU: "台州市城市建设档案馆", BOZHOU: "亳州市城市建设档案馆"},
    "notary": {YANGPU: "上海市杨浦公证处", SUZHOU: "江苏省苏州市虎丘公证处",
               TAIZHOU: "浙江省台州市台州公证处", BOZHOU: "安徽省亳州市亳州公证处"},
}


def mat(name: str, form: str = "original", count: int = 1, e: bool = False, note: str = "") -> dict[str, Any]:
    """A material."""
    return {"name": name, "form": form, "count": count, "electronic_accepted": e, "note": note}


ID = mat("居民身份证", e=True, note="可出示电子身份证照")
AGENT = mat("授权委托书及代理人身份证件", note="委托他人代办时提供")
LICENCE = mat("营业执照", e=True, note="可使用电子营业执照")
HUKOU = mat("居民户口簿", e=True, note="可使用电子证照")


def form(title: str) -> dict[str, Any]:
    """The application form of an item."""
    return mat(f"《{title}》", count=1, e=True, note="可在线填写；窗口可提供样表")


def item(code: str, area: str, name_zh: str, name_en: str, owner: str, modes: list[str], dept: str,
         legal: int, committed: int, materials: list[dict[str, Any]], conditions: list[str], basis: list[str],
         keywords: list[str] | None = None, fee: str = "不收费",
         differs: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One item: the base standard, and how some localities differ from it."""
    return {"code": code, "area": area, "name_zh": name_zh, "name_en": name_en, "ownership_rule": owner,
            "modes": modes, "dept": dept, "legal": legal, "committed": committed, "materials": materials,
            "conditions": conditions, "basis": [*basis, NATIONAL], "keywords": keywords or [], "fee": fee,
            "differs": differs or {}}


MS, SS, MI, AQ = "market_supervision", "social_security", "medical_insurance", "archive_query"
ENT, INS, HH, PROP = ("enterprise_registration_place", "insured_place", "household_registration_place",
                      "property_location")
REG = "《中华人民共和国市场主体登记管理条例》"
REG_RULES = "《中华人民共和国市场主体登记管理条例实施细则》"
SIL = "《中华人民共和国社会保险法》"

ITEMS: list[dict[str, Any]] = [
    # ------------------------------------------------------------------ market supervision (20)
    item("YRD-SC-0101", MS, "内资有限责任公司设立登记", "Registration of establishment of a domestic limited liability company",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("公司登记（备案）申请书"), mat("公司章程", count=1, e=True), mat("股东主体资格文件或自然人身份证件复印件", "copy"),
          mat("住所使用相关文件", "copy"), mat("法定代表人、董事、监事和经理的任职文件", e=True)],
         ["申请人已完成企业名称自主申报", "住所符合登记地关于经营场所的规定"], [REG, REG_RULES, "《中华人民共和国公司法》"],
         ["开办企业", "公司注册", "company registration"],
         differs={BOZHOU: {"committed_days": 2, "materials_electronic": {"公司章程": False}},
                  SUZHOU: {"note": "高新区实行企业开办“一日办结”，含公章刻制与发票申领"}}),
    item("YRD-SC-0102", MS, "内资有限责任公司变更登记", "Registration of changes of a domestic limited liability company",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("公司登记（备案）申请书"), mat("变更决议或决定", e=True), mat("章程修正案", e=True), LICENCE],
         ["公司已依法作出变更决议或决定"], [REG, REG_RULES, "《中华人民共和国公司法》"], ["公司变更", "企业变更"]),
    item("YRD-SC-0103", MS, "内资有限责任公司注销登记", "Deregistration of a domestic limited liability company",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("公司注销登记申请书"), mat("清算报告", e=True), mat("依法作出解散的决议或决定", e=True), LICENCE],
         ["公司已依法完成清算", "无未结清的税款、社会保险费"], [REG, REG_RULES, "《中华人民共和国公司法》"], ["公司注销", "企业注销"],
         differs={TAIZHOU: {"committed_days": 2}, BOZHOU: {"committed_days": 3}}),
    item("YRD-SC-0104", MS, "企业简易注销登记", "Simplified deregistration of an enterprise",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("简易注销登记申请书"), mat("全体投资人承诺书", e=True), LICENCE],
         ["未发生债权债务或已将债权债务清偿完结", "经国家企业信用信息公示系统公示20日无异议"], [REG, REG_RULES], ["简易注销"]),
    item("YRD-SC-0105", MS, "分公司设立登记", "Registration of establishment of a branch company",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("分支机构登记申请书"), mat("隶属公司营业执照复印件", "copy", e=True), mat("分公司负责人任职文件"),
          mat("营业场所使用相关文件", "copy")],
         ["隶属公司依法存续"], [REG, REG_RULES], ["分支机构", "branch"]),
    item("YRD-SC-0106", MS, "企业跨省迁移登记", "Registration of an enterprise's move between provinces",
         ENT, [JOINT, HERE_THERE], "amr", 10, 5,
         [form("公司登记（备案）申请书"), mat("迁移决议或决定", e=True), mat("新住所使用相关文件", "copy"), LICENCE],
         ["迁出地与迁入地登记机关均为通办地区", "企业不处于被列入经营异常名录或严重违法失信名单状态"], [REG, REG_RULES],
         ["企业迁移", "住所跨省迁移", "relocation"],
         differs={YANGPU: {"committed_days": 3}, BOZHOU: {"committed_days": 7, "legal_days": 10}}),
    item("YRD-SC-0107", MS, "个体工商户设立登记", "Registration of establishment of an individual business",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("个体工商户登记（备案）申请书"), ID, mat("经营场所使用相关文件", "copy")],
         ["经营者为有经营能力的自然人"], [REG, "《促进个体工商户发展条例》"], ["个体户", "个体经营", "sole trader"],
         differs={YANGPU: {"committed_days": 0, "note": "材料齐全的当场办结"}}),
    item("YRD-SC-0108", MS, "个体工商户变更登记", "Registration of changes of an individual business",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("个体工商户登记（备案）申请书"), ID, LICENCE], [], [REG, "《促进个体工商户发展条例》"], ["个体户变更"]),
    item("YRD-SC-0109", MS, "个体工商户注销登记", "Deregistration of an individual business",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("个体工商户注销登记申请书"), ID, LICENCE], ["已结清税款等应缴款项"], [REG, "《促进个体工商户发展条例》"],
         ["个体户注销"]),
    item("YRD-SC-0110", MS, "农民专业合作社设立登记", "Registration of establishment of a farmers' specialised cooperative",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 2,
         [form("农民专业合作社登记（备案）申请书"), mat("全体设立人签名、盖章的设立大会纪要"), mat("章程", e=True),
          mat("成员名册和成员出资清单")],
         ["有五名以上符合规定的成员", "农民成员至少占成员总数的百分之八十"], [REG, "《中华人民共和国农民专业合作社法》"],
         ["合作社", "cooperative"],
         differs={BOZHOU: {"committed_days": 1, "note": "亳州市对涉农主体登记实行优先办理"}}),
    item("YRD-SC-0111", MS, "营业执照遗失补领", "Replacement of a lost business licence",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("营业执照补领申请书"), mat("遗失声明", note="可通过国家企业信用信息公示系统发布")],
         ["营业执照正本或副本遗失"], [REG, REG_RULES], ["执照补办", "执照遗失", "lost licence"],
         differs={SUZHOU: {"committed_days": 0}, BOZHOU: {"add_materials": [mat("法定代表人身份证件复印件", "copy")]}}),
    item("YRD-SC-0112", MS, "营业执照换发", "Reissue of a business licence",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("营业执照换发申请书"), LICENCE], ["营业执照污损或样式更新"], [REG, REG_RULES], ["执照换发", "licence reissue"]),
    item("YRD-SC-0113", MS, "企业章程及董事、监事、经理备案", "Filing of articles of association, directors, supervisors and managers",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("公司登记（备案）申请书"), mat("章程或章程修正案", e=True), mat("任免文件", e=True)],
         [], [REG, REG_RULES], ["备案"]),
    item("YRD-SC-0114", MS, "企业名称自主申报", "Self-declaration of an enterprise name",
         ENT, [ONLINE, HERE_THERE], "amr", 1, 0,
         [mat("企业名称自主申报承诺书", e=True)], ["名称不含禁止使用的内容"], ["《企业名称登记管理规定》", REG],
         ["名称申报", "company name"]),
    item("YRD-SC-0115", MS, "股权出质设立登记", "Registration of a pledge of equity",
         ENT, [ONLINE, HERE_THERE], "amr", 3, 1,
         [form("股权出质设立登记申请书"), mat("质押合同", e=True), mat("出质人、质权人主体资格证明", "copy")],
         ["出质股权依法可以转让"], ["《股权出质登记办法》", "《中华人民共和国民法典》"], ["股权质押", "equity pledge"]),
    item("YRD-SC-0116", MS, "食品经营许可证核发", "Issuance of a food business licence",
         ENT, [ONLINE, HERE_THERE], "amr", 10, 5,
         [form("食品经营许可申请书"), LICENCE, mat("与食品经营相适应的主要设备设施布局、操作流程等文件", e=True),
          mat("食品安全管理制度目录", e=True)],
         ["有与经营的食品品种、数量相适应的经营场所", "有专职或兼职的食品安全管理人员"],
         ["《中华人民共和国食品安全法》", "《食品经营许可和备案管理办法》"], ["食品许可", "餐饮许可", "food licence"],
         differs={YANGPU: {"committed_days": 3}, TAIZHOU: {"committed_days": 4},
                  BOZHOU: {"committed_days": 7, "add_materials": [mat("经营场所平面图", "copy")]}}),
    item("YRD-SC-0117", MS, "食品经营许可证变更", "Change of a food business licence",
         ENT, [ONLINE, HERE_THERE], "amr", 10, 3,
         [form("食品经营许可变更申请书"), mat("食品经营许可证正副本", e=True)], [],
         ["《中华人民共和国食品安全法》", "《食品经营许可和备案管理办法》"], ["食品许可变更"]),
    item("YRD-SC-0118", MS, "食品经营许可证延续", "Renewal of a food business licence",
         ENT, [ONLINE, HERE_THERE], "amr", 10, 5,
         [form("食品经营许可延续申请书"), mat("食品经营许可证正副本", e=True)], ["在许可证有效期届满三十个工作日前提出"],
         ["《中华人民共和国食品安全法》", "《食品经营许可和备案管理办法》"], ["食品许可延续"]),
    item("YRD-SC-0119", MS, "工业产品生产许可证核发", "Issuance of an industrial product production licence",
         ENT, [ONLINE, HERE_THERE], "amr", 30, 20,
         [form("全国工业产品生产许可证申请书"), LICENCE, mat("产品检验合格报告", e=True)],
         ["有与所生产产品相适应的专业技术人员和生产条件", "有与所生产产品相适应的检验检疫手段"],
         ["《中华人民共和国工业产品生产许可证管理条例》"], ["生产许可", "production licence"],
         differs={SUZHOU: {"committed_days": 15}, TAIZHOU: {"committed_days": 15}}),
    item("YRD-SC-0120", MS, "企业登记信息查询及证明出具", "Query of enterprise registration information and certificates",
         ENT, [ONLINE, HERE_THERE], "amr", 5, 1,
         [form("企业登记信息查询申请表"), ID], [], [REG], ["企业信息查询", "登记证明"]),
    # ------------------------------------------------------------------ social security (20)
    item("YRD-SB-0101", SS, "社会保障卡申领", "Application for a social security card",
         INS, [ONLINE, HERE_THERE], "hrss", 20, 10,
         [form("社会保障卡申领登记表"), ID, mat("近期免冠证件照片", e=True, note="可现场拍摄或上传电子照片")],
         ["已在参保地参加社会保险"], [SIL, "《社会保障卡管理暂行办法》"], ["社保卡", "social security card"],
         differs={YANGPU: {"committed_days": 1, "note": "杨浦区窗口可即时制卡"}, SUZHOU: {"committed_days": 7},
                  BOZHOU: {"committed_days": 15, "materials_electronic": {"居民身份证": False}}}),
    item("YRD-SB-0102", SS, "社会保障卡启用", "Activation of a social security card",
         INS, [ONLINE, HERE_THERE], "hrss", 1, 0,
         [ID, mat("社会保障卡")], ["本人持卡办理"], ["《社会保障卡管理暂行办法》"], ["社保卡激活", "card activation"]),
    item("YRD-SB-0103", SS, "社会保障卡补换", "Replacement of a social security card",
         INS, [ONLINE, HERE_THERE], "hrss", 20, 10,
         [form("社会保障卡补换申请表"), ID], ["原卡已挂失或损坏"], ["《社会保障卡管理暂行办法》"], ["社保卡补办", "card replacement"],
         fee="不收费",
         differs={TAIZHOU: {"fee": "首次补换免费；非质量原因再次补换收取工本费（示意）"},
                  YANGPU: {"committed_days": 1}}),
    item("YRD-SB-0104", SS, "社会保障卡临时挂失", "Temporary loss report of a social security card",
         INS, [ONLINE, HERE_THERE], "hrss", 1, 0,
         [ID], [], ["《社会保障卡管理暂行办法》"], ["社保卡挂失", "report lost card"]),
    item("YRD-SB-0105", SS, "社会保障卡应用状态查询", "Query of a social security card's status",
         INS, [ONLINE, HERE_THERE], "hrss", 1, 0, [ID], [], ["《社会保障卡管理暂行办法》"], ["社保卡查询"]),
    item("YRD-SB-0106", SS, "失业登记", "Unemployment registration",
         INS, [ONLINE, HERE_THERE], "hrss", 5, 1,
         [form("失业登记表"), ID, mat("解除或终止劳动关系证明", "copy", e=True)],
         ["在法定劳动年龄内、有劳动能力、有就业要求、处于无业状态"], ["《就业服务与就业管理规定》", "《中华人民共和国就业促进法》"],
         ["失业", "unemployed"],
         differs={BOZHOU: {"add_materials": [mat("居民户口簿或居住证", "copy")]}}),
    item("YRD-SB-0107", SS, "失业保险金申领", "Claim for unemployment insurance benefits",
         INS, [ONLINE, HERE_THERE], "hrss", 10, 5,
         [form("失业保险金申领登记表"), ID, mat("解除或终止劳动关系证明", "copy", e=True), mat("本人银行账户信息", "copy")],
         ["失业前用人单位和本人已缴纳失业保险费满一年", "非因本人意愿中断就业", "已办理失业登记并有求职要求"],
         [SIL, "《失业保险条例》", "《失业保险金申领发放办法》"], ["失业金", "unemployment benefit"],
         differs={YANGPU: {"committed_days": 3}, TAIZHOU: {"committed_days": 3}}),
    item("YRD-SB-0108", SS, "企业职工基本养老保险关系转移接续", "Transfer of employees' basic pension insurance",
         INS, [ONLINE, JOINT], "hrss", 45, 30,
         [form("基本养老保险关系转移接续申请表"), ID],
         ["已在转出地参加企业职工基本养老保险", "在转入地已就业参保"],
         [SIL, "《城镇企业职工基本养老保险关系转移接续暂行办法》（国办发〔2009〕66号）"], ["养老关系转移", "pension transfer"],
         differs={YANGPU: {"committed_days": 20}, SUZHOU: {"committed_days": 20}}),
    item("YRD-SB-0109", SS, "城乡居民基本养老保险关系转移接续", "Transfer of urban and rural residents' basic pension insurance",
         HH, [ONLINE, JOINT], "hrss", 45, 30,
         [form("城乡居民基本养老保险关系转移申请表"), ID, HUKOU],
         ["已在户籍地参加城乡居民基本养老保险", "户籍迁移至转入地"], [SIL, "《城乡养老保险制度衔接暂行办法》"],
         ["居民养老转移", "resident pension transfer"]),
    item("YRD-SB-0110", SS, "机关事业单位基本养老保险关系转移接续",
         "Transfer of basic pension insurance of government agencies and public institutions",
         INS, [ONLINE, JOINT], "hrss", 45, 30,
         [form("基本养老保险关系转移接续申请表"), ID, mat("调动或录用相关文件", "copy")], ["已参加机关事业单位养老保险"],
         [SIL, "《机关事业单位基本养老保险关系和职业年金转移接续经办规程》"], ["机关养老转移"]),
    item("YRD-SB-0111", SS, "个人社会保险参保缴费记录查询", "Query of personal social insurance contribution records",
         INS, [ONLINE, HERE_THERE], "hrss", 1, 0, [ID], [], [SIL], ["参保证明", "缴费记录", "contribution record"]),
    item("YRD-SB-0112", SS, "领取养老金人员待遇资格认证", "Certification of eligibility of pension recipients",
         INS, [ONLINE, HERE_THERE], "hrss", 1, 0, [ID], ["正在领取基本养老金"],
         [SIL, "《人力资源社会保障部关于建立待遇领取资格认证服务机制的通知》"], ["生存认证", "养老认证", "pension certification"]),
    item("YRD-SB-0113", SS, "工伤认定申请", "Application for recognition of a work-related injury",
         INS, [HERE_THERE], "hrss", 60, 45,
         [form("工伤认定申请表"), ID, mat("劳动关系证明", "copy"), mat("医疗诊断证明或职业病诊断证明书", "copy")],
         ["在事故伤害发生之日起一年内提出"], [SIL, "《工伤保险条例》", "《工伤认定办法》"], ["工伤", "work injury"],
         differs={SUZHOU: {"committed_days": 30}, BOZHOU: {"committed_days": 60}}),
    item("YRD-SB-0114", SS, "就业创业证申领", "Application for an employment and entrepreneurship certificate",
         HH, [ONLINE, HERE_THERE], "hrss", 5, 1, [ID, mat("近期免冠证件照片", e=True)], [],
         ["《就业服务与就业管理规定》"], ["就业创业证", "就业失业登记证"]),
    item("YRD-SB-0115", SS, "技能人员职业资格证书补发", "Reissue of a vocational skills certificate",
         HH, [ONLINE, HERE_THERE], "hrss", 20, 10, [form("证书补发申请表"), ID], ["证书遗失或损毁"],
         ["《国家职业资格证书制度暂行办法》"], ["职业资格证书", "skills certificate"]),
    item("YRD-SB-0116", SS, "住房公积金提取（离退休）", "Housing provident fund withdrawal on retirement",
         INS, [ONLINE, HERE_THERE], "hpf", 3, 1, [form("住房公积金提取申请表"), ID, mat("退休证明", "copy", e=True)],
         ["已办理离退休手续"], ["《住房公积金管理条例》"], ["公积金提取", "provident fund withdrawal"],
         differs={BOZHOU: {"committed_days": 3}, YANGPU: {"committed_days": 0, "note": "信息核验一致的即时到账"}}),
    item("YRD-SB-0117", SS, "住房公积金提取（购买自住住房）", "Housing provident fund withdrawal on buying a home",
         INS, [ONLINE, HERE_THERE], "hpf", 3, 2,
         [form("住房公积金提取申请表"), ID, mat("购房合同或不动产权证书", "copy", e=True), mat("购房款支付凭证", "copy")],
         ["购买自住住房"], ["《住房公积金管理条例》"], ["公积金提取", "购房提取"],
         differs={SUZHOU: {"add_materials": [mat("婚姻状况证明", "copy", note="已婚的提供")]}}),
    item("YRD-SB-0118", SS, "住房公积金缴存和贷款信息查询", "Query of housing provident fund deposits and loans",
         INS, [ONLINE, HERE_THERE], "hpf", 1, 0, [ID], [], ["《住房公积金管理条例》"], ["公积金查询", "provident fund query"]),
    item("YRD-SB-0119", SS, "住房公积金异地转移接续", "Transfer of housing provident fund between cities",
         INS, [ONLINE, JOINT], "hpf", 10, 5, [form("住房公积金异地转移接续申请表"), ID],
         ["已在转入地建立住房公积金账户"], ["《住房公积金管理条例》", "《全国住房公积金异地转移接续业务操作规程》"],
         ["公积金转移", "provident fund transfer"]),
    item("YRD-SB-0120", SS, "出具住房公积金贷款缴存使用证明", "Certificate of housing provident fund use for a loan elsewhere",
         INS, [ONLINE, HERE_THERE], "hpf", 3, 1, [ID], ["申请人拟在异地申请住房公积金贷款"], ["《住房公积金管理条例》"],
         ["异地贷款证明", "公积金证明"]),
    # ------------------------------------------------------------------ medical insurance (16)
    item("YRD-YB-0101", MI, "城乡居民基本医疗保险参保登记", "Enrolment in basic medical insurance for urban and rural residents",
         HH, [ONLINE, HERE_THERE], "nhsa", 5, 1, [form("城乡居民医疗保险参保登记表"), ID, HUKOU],
         ["未参加职工基本医疗保险"], [SIL, "《国务院关于整合城乡居民基本医疗保险制度的意见》"], ["居民医保", "resident medical insurance"],
         differs={YANGPU: {"add_materials": [mat("居住证", "copy", e=True, note="非本市户籍人员提供")]},
                  BOZHOU: {"committed_days": 3}}),
    item("YRD-YB-0102", MI, "基本医疗保险参保信息变更登记", "Change of basic medical insurance enrolment details",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 1, [form("参保信息变更登记表"), ID], [], [SIL], ["参保变更"]),
    item("YRD-YB-0103", MI, "基本医疗保险关系转移接续", "Transfer of basic medical insurance",
         INS, [ONLINE, JOINT], "nhsa", 45, 15, [form("基本医疗保障关系转移接续申请表"), ID],
         ["已在转入地参加基本医疗保险"], [SIL, "《流动就业人员基本医疗保障关系转移接续暂行办法》"], ["医保转移", "medical insurance transfer"],
         differs={TAIZHOU: {"committed_days": 10}, BOZHOU: {"committed_days": 20}}),
    item("YRD-YB-0104", MI, "异地就医登记备案（异地长期居住人员）", "Filing for medical treatment elsewhere: long-term residents elsewhere",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 0, [form("跨省异地就医登记备案表"), ID, mat("个人承诺书", e=True)],
         ["在参保地以外长期居住、工作或安置"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"], ["就医备案", "medical filing"],
         differs={BOZHOU: {"committed_days": 1, "add_materials": [mat("异地居住证明", "copy")]}}),
    item("YRD-YB-0105", MI, "异地就医登记备案（转诊转院人员）", "Filing for medical treatment elsewhere: referred patients",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 0,
         [form("跨省异地就医登记备案表"), ID, mat("参保地定点医疗机构转诊转院证明", "original", e=True)],
         ["经参保地定点医疗机构转诊"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"], ["转诊备案", "referral"],
         differs={SUZHOU: {"materials_electronic": {"参保地定点医疗机构转诊转院证明": False}}}),
    item("YRD-YB-0106", MI, "异地就医登记备案（临时外出就医人员）", "Filing for medical treatment elsewhere: temporary visits",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 0, [form("跨省异地就医登记备案表"), ID], [],
         [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"], ["临时就医备案"]),
    item("YRD-YB-0107", MI, "异地就医登记备案（异地安置退休人员）", "Filing for medical treatment elsewhere: retirees resettled elsewhere",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 0, [form("跨省异地就医登记备案表"), ID, mat("异地安置认定材料或个人承诺书", e=True)],
         ["已退休并在参保地以外定居"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"], ["退休异地安置"]),
    item("YRD-YB-0108", MI, "门诊费用跨省直接结算", "Cross-provincial direct settlement of outpatient costs",
         INS, [ONLINE, HERE_THERE], "nhsa", 0, 0, [mat("医保电子凭证或社会保障卡", e=True)],
         ["已办理异地就医备案", "在开通跨省直接结算的定点医疗机构就医"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"],
         ["门诊结算", "outpatient settlement"]),
    item("YRD-YB-0109", MI, "住院费用跨省直接结算", "Cross-provincial direct settlement of inpatient costs",
         INS, [ONLINE, HERE_THERE], "nhsa", 0, 0, [mat("医保电子凭证或社会保障卡", e=True)],
         ["已办理异地就医备案"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"], ["住院结算", "inpatient settlement"]),
    item("YRD-YB-0110", MI, "门诊慢特病费用跨省直接结算", "Cross-provincial direct settlement of chronic and special disease outpatient costs",
         INS, [ONLINE, HERE_THERE], "nhsa", 0, 0, [mat("医保电子凭证或社会保障卡", e=True)],
         ["已在参保地办理门诊慢特病待遇认定", "已办理异地就医备案"], [SIL, "《基本医疗保险跨省异地就医直接结算经办规程》"],
         ["慢特病结算", "chronic disease"]),
    item("YRD-YB-0111", MI, "门诊慢特病待遇认定", "Recognition of eligibility for chronic and special disease outpatient benefits",
         INS, [HERE_THERE], "nhsa", 20, 10, [form("门诊慢特病待遇认定申请表"), ID, mat("病历及相关检查报告", "copy")],
         ["患有参保地规定的门诊慢特病病种"], [SIL], ["慢特病认定"],
         differs={YANGPU: {"committed_days": 5}, BOZHOU: {"committed_days": 15,
                                                           "conditions": ["患有参保地规定的门诊慢特病病种", "经二级及以上定点医疗机构确诊"]}}),
    item("YRD-YB-0112", MI, "医疗费用手工（零星）报销", "Manual reimbursement of medical costs",
         INS, [ONLINE, HERE_THERE], "nhsa", 30, 20,
         [form("医疗费用零星报销申请表"), ID, mat("医疗费用收据", count=1), mat("费用明细清单"), mat("出院小结或病历", "copy")],
         ["因故未能直接结算的合规医疗费用"], [SIL], ["医保报销", "reimbursement"],
         differs={SUZHOU: {"committed_days": 15}, TAIZHOU: {"committed_days": 15}, BOZHOU: {"committed_days": 30}}),
    item("YRD-YB-0113", MI, "生育津贴申领", "Claim for maternity allowance",
         INS, [ONLINE, HERE_THERE], "nhsa", 20, 10, [form("生育津贴申领表"), ID, mat("出生医学证明", "copy", e=True)],
         ["生育时参加生育保险（职工基本医疗保险）"], [SIL], ["生育保险", "maternity"]),
    item("YRD-YB-0114", MI, "参保缴费凭证打印", "Printing of a medical insurance contribution certificate",
         INS, [ONLINE, HERE_THERE], "nhsa", 1, 0, [ID], [], [SIL], ["参保凭证", "缴费证明"]),
    item("YRD-YB-0115", MI, "医保电子凭证激活", "Activation of the medical insurance electronic voucher",
         INS, [ONLINE, HERE_THERE], "nhsa", 1, 0, [ID], [], ["《医疗保障信息平台医保电子凭证服务规范》"], ["电子医保卡", "e-voucher"]),
    item("YRD-YB-0116", MI, "职工基本医疗保险个人账户家庭共济备案", "Filing for family sharing of an employee medical insurance account",
         INS, [ONLINE, HERE_THERE], "nhsa", 5, 1, [form("家庭共济备案表"), ID, mat("家庭关系证明", "copy")],
         ["共济人员为配偶、父母、子女"], [SIL], ["家庭共济"],
         differs={TAIZHOU: {"committed_days": 0}}),
    # ------------------------------------------------------------------ archive query (16)
    item("YRD-DA-0101", AQ, "不动产登记资料查询", "Query of real-estate registration records",
         PROP, [ONLINE, HERE_THERE], "estate", 5, 1, [form("不动产登记资料查询申请书"), ID],
         ["查询人为权利人、利害关系人或有权机关"], ["《不动产登记暂行条例》", "《不动产登记资料查询暂行办法》"],
         ["房产查询", "产权查询", "property records"],
         differs={YANGPU: {"committed_days": 0, "note": "本人查询本人名下信息的当场出具"},
                  BOZHOU: {"committed_days": 3, "fee": "查询不收费；复制件按页收取工本费（示意）"}}),
    item("YRD-DA-0102", AQ, "有无不动产登记记录查询", "Query of whether a person holds registered real estate",
         PROP, [ONLINE, HERE_THERE], "estate", 5, 1, [form("不动产登记资料查询申请书"), ID],
         [], ["《不动产登记暂行条例》", "《不动产登记资料查询暂行办法》"], ["无房证明", "有房证明"]),
    item("YRD-DA-0103", AQ, "不动产抵押登记信息查询", "Query of real-estate mortgage registration records",
         PROP, [ONLINE, HERE_THERE], "estate", 5, 2, [form("不动产登记资料查询申请书"), ID, mat("利害关系证明材料", "copy")],
         ["查询人为权利人或利害关系人"], ["《不动产登记暂行条例》", "《不动产登记资料查询暂行办法》"], ["抵押查询", "mortgage"]),
    item("YRD-DA-0104", AQ, "婚姻登记档案查询", "Query of marriage registration records",
         HH, [HERE_THERE], "civil", 20, 5, [form("婚姻登记档案查询申请表"), ID],
         ["查询人为当事人或其委托的代理人"], ["《婚姻登记条例》", "《婚姻登记档案管理办法》"], ["婚姻档案", "结婚证明", "marriage records"],
         differs={SUZHOU: {"committed_days": 3}, TAIZHOU: {"committed_days": 7}, BOZHOU: {"committed_days": 10}}),
    item("YRD-DA-0105", AQ, "收养登记档案查询", "Query of adoption registration records",
         HH, [HERE_THERE], "civil", 20, 10, [form("收养登记档案查询申请表"), ID], ["查询人为收养关系当事人"],
         ["《中国公民收养子女登记办法》", "《中华人民共和国档案法》"], ["收养档案"]),
    item("YRD-DA-0106", AQ, "企业登记档案查询", "Query of enterprise registration archives",
         ENT, [ONLINE, HERE_THERE], "amr", 5, 1, [form("企业登记档案查询申请表"), ID, mat("查询单位介绍信")],
         [], [REG, "《企业登记档案资料查询办法》"], ["企业档案", "工商档案", "company archives"],
         differs={TAIZHOU: {"materials_electronic": {"查询单位介绍信": True}}}),
    item("YRD-DA-0107", AQ, "个体工商户登记档案查询", "Query of registration archives of individual businesses",
         ENT, [ONLINE, HERE_THERE], "amr", 5, 1, [form("企业登记档案查询申请表"), ID], [], [REG], ["个体户档案"]),
    item("YRD-DA-0108", AQ, "流动人员人事档案查询", "Query of personnel archives of mobile workers",
         HH, [ONLINE, HERE_THERE], "talent", 5, 2, [ID], ["档案存放于查询地人才服务机构"], ["《流动人员人事档案管理服务规定》"],
         ["人事档案", "personnel file"]),
    item("YRD-DA-0109", AQ, "流动人员人事档案转递", "Transfer of personnel archives of mobile workers",
         HH, [JOINT, HERE_THERE], "talent", 20, 10, [form("人事档案转递申请表"), ID, mat("接收单位调档函", e=True)],
         [], ["《流动人员人事档案管理服务规定》"], ["档案转递", "调档"],
         differs={YANGPU: {"committed_days": 5}, BOZHOU: {"committed_days": 15}}),
    item("YRD-DA-0110", AQ, "存档证明出具", "Certificate of archive custody",
         HH, [ONLINE, HERE_THERE], "talent", 5, 1, [ID], ["档案存放于出具地人才服务机构"], ["《流动人员人事档案管理服务规定》"],
         ["存档证明"]),
    item("YRD-DA-0111", AQ, "知青档案查询", "Query of archives of educated youth sent to the countryside",
         HH, [HERE_THERE], "archives", 20, 10, [form("档案查询利用登记表"), ID, mat("与档案形成者关系证明", "copy", note="代查时提供")],
         [], ["《中华人民共和国档案法》"], ["知识青年档案", "知青"],
         differs={BOZHOU: {"committed_days": 15, "note": "部分上海知青档案存于亳州市档案馆，需人工查档"}}),
    item("YRD-DA-0112", AQ, "民生档案查询（婚姻、独生子女、退伍等）", "Query of livelihood archives",
         HH, [ONLINE, HERE_THERE], "archives", 20, 5, [form("档案查询利用登记表"), ID], [], ["《中华人民共和国档案法》"],
         ["民生档案", "就近查档"]),
    item("YRD-DA-0113", AQ, "城建档案查询", "Query of urban construction archives",
         PROP, [HERE_THERE], "urban", 10, 5, [form("城建档案查阅申请表"), ID, mat("产权证明或授权文件", "copy")],
         [], ["《城市建设档案管理规定》"], ["竣工档案", "城市建设档案"],
         differs={SUZHOU: {"committed_days": 3}}),
    item("YRD-DA-0114", AQ, "公证档案查询", "Query of notarial archives",
         HH, [HERE_THERE], "notary", 15, 5, [form("公证档案查询申请表"), ID],
         ["查询人为公证当事人或其代理人"], ["《中华人民共和国公证法》", "《公证档案管理办法》"], ["公证书查询"],
         fee="不收费", differs={TAIZHOU: {"fee": "查档免费；副本按公证收费标准收取（示意）"}}),
    item("YRD-DA-0115", AQ, "退休审批档案查询", "Query of retirement approval archives",
         INS, [ONLINE, HERE_THERE], "hrss", 10, 3, [ID], [], [SIL, "《中华人民共和国档案法》"], ["退休档案"]),
    item("YRD-DA-0116", AQ, "学籍档案查询（中等职业学校）", "Query of school records of secondary vocational schools",
         HH, [HERE_THERE], "archives", 20, 10, [form("档案查询利用登记表"), ID], [], ["《中华人民共和国档案法》"],
         ["学籍", "毕业证明"]),
]

WINDOW_STEPS = {
    ONLINE: [
        ("申请人在线提交申请及电子材料", "The applicant applies online with electronic materials", "applicant", "owning"),
        ("受理审查", "Acceptance and review", "department_officer", "owning"),
        ("作出决定", "Decision", "department_officer", "owning"),
        ("电子证照推送或结果寄递", "Electronic licence issued or result posted", "department_officer", "owning"),
    ],
    HERE_THERE: [
        ("窗口核验身份、对材料作形式审查", "The window checks identity and the form of the materials", "window_clerk", "accepting"),
        ("材料电子流转或邮寄至办理地", "Materials sent electronically or by post to the owner", "window_clerk", "accepting"),
        ("材料寄递", "Postal delivery of the materials", "carrier", "accepting"),
        ("受理审查并作出决定", "Acceptance, review and decision", "department_officer", "owning"),
        ("结果寄递或由收件窗口发放", "Result posted or handed out at the accepting window", "department_officer", "owning"),
    ],
    JOINT: [
        ("一窗受理，核验身份和材料", "One window accepts the case and checks identity and materials", "window_clerk", "accepting"),
        ("分送相关地区部门", "Dispatched to the departments of each locality involved", "window_clerk", "accepting"),
        ("各地部门按职责办理", "Each locality's department does its part", "department_officer", "every_owning"),
        ("办理结果汇总并告知申请人", "Results gathered and the applicant informed", "window_clerk", "accepting"),
    ],
}

WINDOWS = [
    ("W-310110-01", YANGPU, "杨浦区行政服务中心 长三角“跨省通办”综合受理窗口",
     "Yangpu District Administrative Service Centre: YRD cross-provincial window",
     "上海市杨浦区行政服务中心一楼综合受理区", "周一至周五 9:00-17:00；周六 9:00-12:00（延时服务）", "021-12345", None),
    ("W-310110-02", YANGPU, "杨浦区医疗保障事务中心 异地就医窗口",
     "Yangpu District Medical Insurance Affairs Centre: medical treatment elsewhere window",
     "上海市杨浦区医疗保障事务中心服务大厅", "周一至周五 9:00-17:00", "021-12345", MI),
    ("W-320505-01", SUZHOU, "苏州高新区政务服务中心 “跨省通办”专窗",
     "Suzhou High-tech District Government Service Centre: cross-provincial window",
     "江苏省苏州高新区政务服务中心二楼", "周一至周五 9:00-12:00，13:30-17:00", "0512-12345", None),
    ("W-331000-01", TAIZHOU, "台州市行政服务中心 长三角“跨省通办”专窗",
     "Taizhou Administrative Service Centre: YRD cross-provincial window",
     "浙江省台州市市民广场行政服务中心一楼", "周一至周五 8:30-12:00，14:00-17:30", "0576-12345", None),
    ("W-331000-02", TAIZHOU, "台州市社会保障服务窗口（社保卡）", "Taizhou social security service window (social security cards)",
     "浙江省台州市行政服务中心社保服务区", "周一至周五 8:30-12:00，14:00-17:30", "0576-12345", SS),
    ("W-341600-01", BOZHOU, "亳州市政务服务中心 “跨省通办”窗口",
     "Bozhou Government Service Centre: cross-provincial window",
     "安徽省亳州市政务服务中心一楼", "周一至周五 8:30-12:00，14:30-17:30", "0558-12345", None),
]


def standard(spec: dict[str, Any], locality: str) -> dict[str, Any]:
    """The standard of an item in a locality: its base, with that locality's differences applied."""
    d = spec["differs"].get(locality, {})
    materials = [dict(m) for m in spec["materials"]]
    for name, accepted in d.get("materials_electronic", {}).items():
        found = [m for m in materials if m["name"] == name]
        assert found, (spec["code"], name)
        for m in found:
            m["electronic_accepted"] = accepted
            if not accepted and m["note"].startswith("可"):
                m["note"] = ""
    materials += d.get("add_materials", [])
    legal = d.get("legal_days", spec["legal"])
    committed = d.get("committed_days", spec["committed"])
    assert committed <= legal, spec["code"]
    return {
        "competent_department": DEPARTMENTS[spec["dept"]][locality],
        "materials": materials,
        "conditions": d.get("conditions", spec["conditions"]),
        "legal_days": legal,
        "committed_days": committed,
        "fee": d.get("fee", spec["fee"]),
        "legal_basis": spec["basis"],
        "illustrative": True,
        "note": d.get("note", ""),
    }


def build() -> dict[str, Any]:
    """The whole data file."""
    assert len(ITEMS) == 72, len(ITEMS)
    assert len({i["code"] for i in ITEMS}) == 72
    items = []
    for spec in ITEMS:
        items.append({
            "code": spec["code"], "name_zh": spec["name_zh"], "name_en": spec["name_en"], "area": spec["area"],
            "modes": spec["modes"], "ownership_rule": spec["ownership_rule"], "keywords": spec["keywords"],
            "illustrative": True,
            "standards": {loc: standard(spec, loc) for loc in LOCALITIES},
            "procedures": {
                mode: {"illustrative": True,
                       "steps": [{"name_zh": z, "name_en": e, "role": r, "locality": where}
                                 for z, e, r, where in WINDOW_STEPS[mode]
                                 if not (r == "carrier" and spec["area"] == MI)]}
                for mode in spec["modes"]
            },
        })
    windows = []
    for window_id, locality, name_zh, name_en, address, hours, phone, area in WINDOWS:
        codes = [i["code"] for i in ITEMS if (area is None or i["area"] == area)
                 and any(m in (HERE_THERE, JOINT) for m in i["modes"])]
        windows.append({"id": window_id, "locality": locality, "name_zh": name_zh, "name_en": name_en,
                        "address": address, "hours": hours, "phone": phone, "item_codes": codes,
                        "illustrative": True})
    return {
        "format": 1,
        "provenance": (__doc__ or "").split("Provenance: ", 1)[1].strip(),
        "list": {
            "slug": "yrd-first-list",
            "version": 1,
            "name_zh": "长三角“跨省通办”首批事项清单（杨浦区、苏州高新区、台州市、亳州市）",
            "name_en": "First list of cross-provincial items of Yangpu, Suzhou High-tech District, Taizhou and Bozhou",
            "announced_on": "2021-04-20",
            "provenance": "Signed by video on 19-20 April 2021 by the Yangpu District Big Data Center, Suzhou "
                          "High-tech District, Taizhou Administrative Service Center and Bozhou Data Resources "
                          "Bureau: 72 items in market supervision, social security, medical insurance and archive "
                          "query. The items below are illustrative: the official composition was not available.",
        },
        "areas": AREAS,
        "items": items,
        "windows": windows,
    }


if __name__ == "__main__":
    target = Path(__file__).with_name("first_list.json")
    target.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target}")

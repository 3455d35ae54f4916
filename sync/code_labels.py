"""The words of codes when a form version's own are not at hand: one catalogue, (Chinese, English) by choice list (pure).

A code a visit wrote is shown with the label of the form version it was filled in (sync.form_labels); these are the
words for a version not published here, for lists no form has (life-event kinds, support outcomes), and for what a
report or page says about a code (the forms' words as of this writing). Pages, registers and reports read this one
catalogue.
"""

from __future__ import annotations

from sync.form_labels import FormLabels

__all__ = ["CODE_LABELS", "code_label", "audit_action_label"]

CODE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # The forms' choice lists.
    "services": {"health_guidance": ("健康指导", "Health guidance"),
                 "postpartum_care": ("产后保健指导", "Postpartum care guidance"),
                 "recovery_check": ("术后恢复情况了解", "Recovery after the operation"),
                 "antenatal_guidance": ("孕期保健指导", "Antenatal guidance"),
                 "supplies": ("药具（应本人要求）", "Supplies (on request)"),
                 "benefit_information": ("扶助政策咨询", "Benefit information"), "other": ("其他", "Other")},
    "supply_item": {"folic_acid": ("叶酸", "Folic acid"), "condoms": ("避孕套", "Condoms"),
                    "oral_pills": ("口服避孕药", "Oral contraceptive pills"),
                    "emergency": ("紧急避孕药", "Emergency contraceptive pills"),
                    "topical": ("外用避孕药具", "Topical contraceptives"), "other": ("其他", "Other")},
    "referral_purpose": {"antenatal_guidance": ("孕期保健指导", "Antenatal guidance"),
                         "prepregnancy_check": ("免费孕前优生健康检查", "Free pre-pregnancy health check"),
                         "health_centre": ("卫生院（服务站）就诊", "Health centre"), "other": ("其他", "Other")},
    "referral_result": {"attended": ("已去就诊（已参加）", "Attended"), "not_attended": ("还没有去", "Not attended yet"),
                        "declined": ("本人不愿意去", "Declined")},
    "service_needs": {"postpartum_followup": ("产后随访", "Follow-up after a birth"),
                      "post_operation_followup": ("术后随访", "Follow-up after an operation"),
                      "pregnancy_reported": ("孕期保健指导（本人自愿告知怀孕）", "Antenatal guidance (she chooses to tell)"),
                      "prepregnancy_check": ("免费孕前优生健康检查", "Free pre-pregnancy health check"),
                      "supplies": ("药具（应本人要求）", "Supplies (on request)"),
                      "family_benefit": ("计生家庭奖励扶助", "Family benefit"),
                      "elderly_support": ("养老关爱", "Elderly support"),
                      "hardship_support": ("困难家庭帮扶", "Hardship support"), "other": ("其他需求", "Other needs")},
    "benefit_kind": {"reward": ("农村计生家庭奖励扶助", "Family benefit (reward scheme)"),
                     "special": ("计生家庭特别扶助", "Special family support")},
    "followup_type": {"postpartum": ("产后随访", "After a birth"), "post_operation": ("术后随访", "After an operation"),
                      "pregnancy_outcome": ("妊娠结局随访", "After a pregnancy outcome"),
                      "tier_key": ("重点服务对象例行访视（每月）", "Routine visit, key tier (monthly)"),
                      "tier_general": ("一般服务对象例行访视（每季度）", "Routine visit, general tier (quarterly)"),
                      "tier_followup": ("随访服务对象例行访视（每年）", "Routine visit, follow-up tier (yearly)"),
                      "referral": ("转介跟进", "Follow-up of a referral"),
                      "agreed_visit": ("约定的访视", "Visit agreed with the household")},
    "outcome": {"completed": ("已完成", "Completed"), "nobody_home": ("无人在家", "Nobody home"),
                "refused": ("拒绝", "Refused"), "moved_away": ("已搬走", "Moved away")},   # both forms' outcomes
    "yesno": {"yes": ("是", "Yes"), "no": ("否", "No")},
    "sex": {"male": ("男", "Male"), "female": ("女", "Female")},
    "relationship": {"head": ("户主", "Head of household"), "spouse": ("配偶", "Spouse"), "child": ("子女", "Child"),
                     "child_in_law": ("儿媳/女婿", "Child-in-law"), "grandchild": ("孙子女/外孙子女", "Grandchild"),
                     "parent": ("父母", "Parent"), "parent_in_law": ("公婆/岳父母", "Parent-in-law"),
                     "grandparent": ("祖父母/外祖父母", "Grandparent"), "sibling": ("兄弟姐妹", "Sibling"),
                     "other": ("其他", "Other")},
    "hukou": {"here": ("本地户籍", "Registered here"), "elsewhere": ("外地户籍", "Registered elsewhere")},
    "status": {"living": ("健在", "Living"), "died": ("已故", "Died")},
    "residence": {"here": ("在本地居住", "Lives here"), "working_away": ("外出务工", "Working away"),
                  "moved_away": ("已搬走", "Moved away")},
    # Lists of the register and the service record that no form has.
    "life_event": {"birth": ("出生", "Birth"), "death": ("死亡", "Death"), "marriage": ("结婚", "Marriage"),
                   "moved_in": ("迁入", "Moved in"), "moved_out": ("迁出", "Moved out"),
                   "left_for_work": ("外出务工", "Left to work away"), "returned": ("返回居住", "Came back"),
                   "changed_household": ("迁到本组另一户", "Moved to another household"),
                   "household_split": ("分户", "Household split"), "registered": ("新登记", "Registered")},
    "given": {"yes": ("当场发放", "Given on the spot"), "no": ("应要求，待发放", "Requested, to be given")},
    "referral_state": {"open": ("未完成", "Open"), "closed": ("已完成", "Closed")},
    "support_outcome": {"granted": ("已批准", "Granted"), "not_granted": ("未批准", "Not granted"),
                        "referred_on": ("已转有关部门", "Referred on"), "withdrawn": ("申请已撤回", "Withdrawn")},
    # Words of the register's own codes: its field names, review states, tiers, decisions and audit actions.
    "register_field": {"name": ("姓名", "Name"), "sex": ("性别", "Sex"), "birth_date": ("出生日期", "Birth date"),
                       "id_number": ("身份证号码", "ID number"), "relationship": ("与户主关系", "Relationship"),
                       "phone": ("手机", "Phone"), "residence": ("居住情况", "Where they live"),
                       "hukou": ("户籍", "Household registration"), "status": ("健在或已故", "Living or died"),
                       "household": ("所在户", "Household"), "household_uuid": ("所在户", "Household"),
                       "tier": ("服务类别", "Service tier"), "household_no": ("户号", "Household number"),
                       "address": ("地址", "Address"), "group": ("所在小组", "Group"),
                       "split_from": ("分户前所在户", "Split off from")},
    "review_state": {"received": ("未审核", "Not reviewed"), "approved": ("已通过", "Approved"),
                     "has_issues": ("有问题", "Has issues"), "rejected": ("已退回", "Rejected")},
    "tier": {"key": ("重点服务对象", "Key service target"), "general": ("一般服务对象", "General service target"),
             "followup": ("随访服务对象", "Follow-up target")},
    "record_kind": {"person": ("人员", "Person"), "household": ("户", "Household")},
    # sync.decisions.DECISION_KINDS by name (a test holds the two together).
    "decision_kind": {"merge_people": ("合并重复人员", "Merge duplicate people"),
                      "merge_households": ("合并重复户", "Merge duplicate households"),
                      "move_household": ("户迁到其他小组", "Move a household to another group"),
                      "set_tier": ("设置服务分级", "Set a service tier"),
                      "set_field": ("更正字段值（或处理冲突）", "Correct a field (or settle a conflict)"),
                      "reject_visit": ("退回访视", "Reject a visit"),
                      "referral_result": ("记录转介结果", "Record the result of a referral"),
                      "support_outcome": ("记录扶助申请结果", "Record the outcome of a support request"),
                      "correct_service": ("更正服务记录", "Correct a service record"),
                      "add_person": ("登记新成员", "Register a new member"),
                      "record_move": ("登记迁出", "Record a move out"),
                      "confirm_arrival": ("确认迁入", "Confirm an arrival"),
                      "merge_moved": ("合并迁入人员（迁移）", "Merge an arrival with a person who moved out"),
                      "withdraw_consent": ("撤回同意（敏感服务记录）", "Withdraw consent (sensitive services)")},
}
"""Words of every code a page, register or report shows, by list: (Chinese, English)."""

_ROLES = {"collector": ("信息员", "collector"), "village_cadre": ("村专干", "village cadre"),
          "town_officer": ("镇计生办人员", "town officer"), "county_admin": ("县管理员", "county administrator")}
CODE_LABELS["archived_kind"] = {
    "monthly_change": ("月变更报告单", "Monthly change report"),
    "village_review_quarter": ("村季度考评表", "Village quarterly review"),
    "village_review_year": ("村年度考评表", "Village yearly review"),
}
CODE_LABELS["month_state"] = {
    "open": ("未提交", "Not submitted"), "submitted": ("已提交，待镇审核", "Submitted, waiting for the town office"),
    "returned": ("已退回，待重新提交", "Returned, to submit again"), "accepted": ("已接收", "Accepted"),
}
CODE_LABELS["month_step"] = {
    "submitted": ("签字提交", "Signed and submitted"), "returned": ("退回", "Returned"), "accepted": ("接收", "Accepted"),
}
CODE_LABELS["audit_action"] = {
    "person.read": ("查看人员", "Read a person"), "household.read": ("查看户", "Read a household"),
    "person.search": ("查找人员", "Searched for people"), "duplicates.read": ("查看疑似重复", "Read possible duplicates"),
    "conflicts.read": ("查看冲突", "Read conflicts"), "inbox.read": ("查看已同步的访视", "Read synced visits"),
    "visit.read": ("查看访视", "Read a visit"), "due.read": ("查看待访视与逾期", "Read the due list"),
    "visit.approved": ("审核访视：通过", "Reviewed a visit: approved"),
    "visit.has_issues": ("审核访视：有问题", "Reviewed a visit: has issues"),
    "visit.rejected": ("审核访视：退回", "Reviewed a visit: rejected"),
    "visit.undo_review": ("撤销访视审核", "Undid a visit's review"),
    "register.distinct": ("标记不是同一人", "Marked as not the same"),
    "register.undo_distinct": ("撤销：不是同一人", "Undo: not the same"),
    "registers.read": ("查看登记册", "Read a register"), "registers.export": ("导出登记册", "Exported a register"),
    "export.monthly_change": ("导出月变更报告单", "Exported the monthly change report"),
    "export.coverage": ("导出访视完成情况", "Exported visits due and done"),
    "export.register": ("导出台账", "Exported the register"),
    "archive.keep": ("存档报表", "Archived a report"),
    "archive.read": ("下载存档报表", "Downloaded an archived report"),
    "month.submitted": ("签字提交村月报", "Signed and submitted a village's month"),
    "month.returned": ("退回村月报", "Returned a village's month"),
    "month.accepted": ("接收村月报", "Accepted a village's month"),
    "collector.create": ("新建信息员", "Created a collector"),
    "collector.token": ("生成信息员二维码", "Made a collector's QR code"),
    "replication.read": ("上级读取数据（同步）", "Read for replication"),
    "replication.undo_automatic_merge": ("同步：撤销自动合并", "Replicated: undo an automatic merge"),
    "signin.locked": ("登录失败次数过多，已锁定", "Sign-in locked after too many failures"),
    **{f"{role}.revoke": (f"停用{zh}账户", f"Revoked a {en}'s account") for role, (zh, en) in _ROLES.items()},
    **{f"{role}.activate": (f"重新启用{zh}账户", f"Re-activated a {en}'s account")
       for role, (zh, en) in _ROLES.items()},
    **{f"register.{kind}": (zh, en) for kind, (zh, en) in CODE_LABELS["decision_kind"].items()},
    **{f"register.undo_{kind}": (f"撤销：{zh}", f"Undo: {en}") for kind, (zh, en) in CODE_LABELS["decision_kind"].items()},
    **{f"replication.{kind}": (f"同步：{zh}", f"Replicated: {en}")
       for kind, (zh, en) in CODE_LABELS["decision_kind"].items()},
    **{f"replication.undo_{kind}": (f"同步：撤销{zh}", f"Replicated: undo {en}")
       for kind, (zh, en) in CODE_LABELS["decision_kind"].items()},
}
# The monthly meeting sheet and the village reviews (server/meetings).
CODE_LABELS["audit_action"].update({
    "meeting.read": ("查看月例会表", "Read a monthly meeting sheet"),
    "export.village_review": ("导出村考评表", "Exported a village review"),
})

CODE_LABELS["audit_action"].update({
    "recheck.draw": ("抽取复查样本", "Drew a re-check sample"),
    "recheck.redraw": ("重新抽取复查样本", "Drew a re-check sample again"),
    "recheck.record": ("录入复查结果", "Recorded a re-check"),
    "recheck.read": ("查看复查不符清单", "Read a re-check's disagreements"),
})

# People who move (server/moves).
CODE_LABELS["audit_action"].update({
    "moves.read": ("查看迁入迁出", "Read expected arrivals and departures"),
})


# Service notices (协查通报, sync.notices).
CODE_LABELS["notice_state"] = {"sent": ("已发出", "Sent"), "received": ("已签收", "Received"),
                               "answered": ("已反馈", "Answered"), "overdue": ("逾期未反馈", "Overdue")}
CODE_LABELS["notice_result"] = {"served": ("已提供服务", "Service given"),
                                "referred": ("已转介当地服务机构", "Referred to a local service"),
                                "declined": ("本人不需要", "Not wanted by the person"),
                                "moved_on": ("已离开本地", "Has left the place"),
                                "not_found": ("查无此人", "Not found"), "other": ("其他", "Other")}
CODE_LABELS["audit_action"].update({
    "notice.read": ("查看协查通报", "Read a service notice"),
    "notice.list": ("查看协查通报列表", "Read the list of service notices"),
    "notice.send": ("发出协查通报", "Sent a service notice"),
    "notice.receive": ("签收协查通报", "Received a service notice"),
    "notice.answer": ("答复协查通报", "Answered a service notice"),
    "notice.export": ("导出协查通报", "Exported service notices"),
    "notice.import": ("导入协查通报", "Imported service notices"),
    "replication.notice": ("同步协查通报", "Replicated a service notice"),
    "replication.notices_read": ("读取待同步的协查通报", "Read service notices to replicate"),
    # Exports with ID numbers and phones in full, asked for with a reason (sync.privacy.export_action).
    "export.register.full": ("导出台账（完整身份证号和电话）", "Exported the register (full ID numbers and phones)"),
    "registers.export.full": ("导出登记册（完整身份证号和电话）", "Exported a register (full ID numbers and phones)"),
    "notice.export.full": ("导出协查通报（完整身份证号和电话）",
                           "Exported service notices (full ID numbers and phones)"),
})

# A person's own copy (server/copies): the accounts' roles it names, the audit actions, who asked, its forms.
CODE_LABELS["role"] = {role: (zh, en.capitalize()) for role, (zh, en) in _ROLES.items()}
CODE_LABELS["copy_requester"] = {"self": ("本人", "The person"), "representative": ("代理人", "A representative")}
CODE_LABELS["copy_format"] = {"pdf": ("PDF（可打印）", "PDF (to print)"), "xlsx": ("Excel 表格", "Excel workbook")}
CODE_LABELS["audit_action"].update({
    "copy.read": ("查看本人信息副本申请", "Read a person's copy requests"),
    "copy.request": ("登记本人信息副本申请", "Recorded a request for a person's own copy"),
    "copy.produce": ("生成本人信息副本", "Produced a person's own copy"),
    "copy.hand_over": ("登记本人信息副本交付", "Recorded a person's own copy handed over"),
    # the town office's dashboard named the people a staff member opened unusually many of (server/home)
    "reading.unusual": ("查看异常查阅名单", "Read the list of unusual reading"),
    # the retention rules applied (server/privacy): how many per village and rule, never what went
    "purge": ("按保存期限清除", "Purged at the end of a retention period"),
})


def code_label(list_name: str, code: str | None, language: str, form: FormLabels | None = None) -> str | None:
    """A code's words in a language: the form version's own label first, then the catalogue's; None when neither
    knows the code (the caller says so, it never shows a bare code)."""
    if not code:
        return None
    label = form.choice(list_name, code, language) if form is not None else None
    if label:
        return label
    known = CODE_LABELS.get(list_name, {}).get(code)
    return (known[0] if language == "zh" else known[1]) if known else None


def audit_action_label(action: str, language: str) -> str:
    """An audit action's words; one this catalogue does not know is "another action" (a test keeps that from
    happening: every action the code records has words here)."""
    return code_label("audit_action", action, language) or ("其他操作" if language == "zh" else "Another action")

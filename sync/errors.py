"""The one error hierarchy of taizhang, with stable codes; each channel (OpenRosa XML, JSON, HTML) renders it.

    TaizhangError                      code            status
    ├── BadRequest                                     400
    │   ├── MultipartMalformed         400.1
    │   ├── XmlPartMissing             400.2
    │   ├── XmlMalformed               400.3
    │   ├── XmlForbiddenConstruct      400.4  (DTD, entities)
    │   ├── InstanceIdMissing          400.5
    │   ├── AttachmentNameInvalid      400.6
    │   ├── FormVersionUnknown         400.7
    │   ├── FormIdMissing              400.8
    │   ├── XFormInvalid               400.9  (publishing)
    │   ├── IdentifierTooLong          400.10
    │   ├── ScheduleInvalid            400.11 (a schedule file)
    │   ├── PasswordRejected           400.12 (too short, or the user name)
    │   ├── FormTokenInvalid           400.13 (a web form without a valid CSRF token)
    │   ├── BackupInvalid              400.14 (a damaged file, or not a taizhang backup)
    │   ├── NulCharacter               400.15 (a NUL byte in a field, argument or header)
    │   ├── ValueOutOfRange            400.16 (a number or date no column or calendar holds)
    │   ├── InstanceIdInvalid          400.17 (an instanceID that is not a plain identifier)
    │   ├── FieldValueInvalid          400.18 (a corrected value its field cannot hold)
    │   │   ├── IdNumberInvalid        400.19
    │   │   ├── DateValueInvalid       400.20
    │   │   ├── ChoiceValueInvalid     400.21
    │   │   └── PhoneInvalid           400.22
    │   ├── MonthNotOver               400.23 (submitting a month not yet over)
    │   ├── CommentRequired            400.24 (returning a month without saying why)
    │   ├── ConfirmationRequired       400.25 (signing without ticking the check)
    │   ├── PeriodInvalid              400.26 (a period that is not 2026-11, 2026-Q4 or 2026)
    │   ├── RecheckMonthInFuture       400.40 (a re-check sample of a month not begun)
    │   ├── RecheckPercentInvalid      400.41 (a sample's share not above 0 and up to 100)
    │   ├── NoticeInvalid              400.70 (a service notice or its answer with a field it cannot hold)
    │   ├── NoticeFileInvalid          400.71 (an imported file that is not a notice export, JSON or xlsx)
    │   └── NoticeTownUnknown          400.72 (a notice to a town that is not one of the county)
    │   ├── CopyRequestInvalid         400.95 (a copy request without the requester's name, or a wrong format)
    │   └── CopyRequestDayInvalid      400.96 (a copy request's day not a date, or in the future)
    │   ├── MoveDayInvalid             400.50 (a move's or arrival's day missing, in the future, before the move)
    │   └── MovePlaceMissing           400.51 (a move outside the county without saying where)
    │   ├── BackupKeyWrong             400.100 (an encrypted backup restored with another key)
    │   ├── BackupTampered             400.101 (an encrypted backup changed or cut short after it was made)
    │   └── BackupKeyNeeded            400.102 (an encrypted backup restored without its secret key configured)
    │   ├── ConsentDayInvalid          400.90 (a consent withdrawal's day missing or in the future)
    │   ├── ConsentNoteTooLong         400.91 (a consent withdrawal's note over 200 characters)
    │   └── ConsentNotConfirmed        400.92 (a consent withdrawal without ticking the confirmation)
    │   ├── RetentionPeriodTooShort    400.85 (a purge's retention period under its rule's minimum)
    │   └── RetentionRuleUnknown       400.86 (a purge's period given for a rule that does not exist)
    │   ├── ExportReasonRequired       400.80 (an export in full, ID numbers and phones, without a reason)
    │   └── ExportReasonTooLong        400.81 (a reason for it over 300 characters)
    ├── Unauthorized                   401.1
    │   ├── LoginFailed                401.2  (web login: wrong name or password)
    │   └── LoginRequired              401.3  (web pages: sign in first)
    ├── Forbidden                      403.1
    │   ├── TokenInvalid               403.2
    │   ├── OutsideArea                403.3  (a record, submission or decision of another area)
    │   ├── EditOutsideGroup           403.4  (an edit replacing another group's submission)
    │   ├── SignoffNotYours            403.5  (a month submitted or decided by someone not its cadre or town office)
    │   └── NoticeNotYours             403.70 (a service notice neither from nor to the town; answered by another)
    │   └── CopyOutsideArea            403.95 (a person's own copy asked of someone whose area the person is not in)
    ├── NotFound                       404.1
    │   ├── FormNotFound               404.2
    │   ├── RecordNotFound             404.3  (register record, candidate or decision)
    │   ├── RecheckNotInSample         404.40 (a household not in the month's re-check sample)
    │   ├── NoticePersonNotHad         404.70 (a notice about a person the town never had in its register)
    │   └── NoticeNotFound             404.71 (a service notice not on this server)
    │   └── DestinationUnknown         404.50 (a move to a village or town that is not in the register)
    │   └── CopyRequestNotFound        404.95 (a copy request that is not one of the person's)
    ├── MethodNotAllowed               405.1
    ├── Conflict                                       409
    │   ├── InstanceConflict           409.1
    │   ├── EditAlreadySuperseded      409.2
    │   ├── EditFormMismatch           409.3
    │   ├── FormVersionConflict        409.4  (publishing)
    │   ├── DecisionNotPossible        409.5  (register decisions)
    │   │   ├── NotMovedAway           409.60 (a move pair whose person is not recorded as moved away)
    │   │   ├── SameVillageMove        409.61 (a move pair of one village: a duplicate, not a move)
    │   │   └── ArrivalNotHere         409.62 (a move pair whose new record no longer lives in the village)
    │   │   ├── PersonCannotMove       409.50 (a move out of a person moved away already, or who died)
    │   │   ├── ArrivalAlreadyConfirmed 409.51 (an arrival confirmed a second time)
    │   │   ├── ArrivalNotExpected     409.52 (an arrival confirmed for a person not expected there)
    │   │   └── MoveToOwnVillage       409.53 (a move out to the village the person lives in)
    │   │   └── ConsentNothingRecorded 409.90 (a consent withdrawal for a person with nothing recorded by consent)
    │   ├── BackupIncompatible         409.6  (another engine, a newer taizhang, a newer schema)
    │   ├── DatabaseNotEmpty           409.7  (restore without --force)
    │   ├── DecisionNotYetMergeable    409.8  (a replicated decision whose visits are not merged here yet)
    │   ├── EditOriginalUnknown        409.9  (an edit whose original is not on the server)
    │   ├── MonthAlreadySubmitted      409.10 (a month submitted again before the town office returned it)
    │   ├── MonthAccepted              409.11 (a month the town office has accepted)
    │   ├── MonthNotSubmitted          409.12 (accepting or returning a month not waiting for it)
    │   ├── SampleAlreadyDrawn         409.40 (a second draw without the explicit re-draw)
    │   ├── RechecksStarted            409.41 (a re-draw after a re-check of the sample was recorded)
    │   ├── AlreadyRechecked           409.42 (a household's re-check recorded twice)
    │   ├── NoticeAlreadyAnswered      409.70 (a service notice answered a second time)
    │   └── NoticeMismatch             409.71 (a notice sent again with its uuid but other content)
    │   ├── CopyNotProduced            409.95 (a copy handed over before it was produced)
    │   └── CopyAlreadyHandedOver      409.96 (a copy handed over, or produced again, after its hand-over)
    ├── PayloadTooLarge                413.1
    ├── TooManyRequests                429.1  (sign-in attempts)
    │   └── SignInLocked               429.2  (too many failed sign-ins: the user or address is locked)
    ├── UnsupportedMediaType           415.1
    ├── ServiceUnavailable             503.1  (database busy or away; safe to retry)
    ├── DatabaseToolMissing            500.2  (pg_dump / pg_restore absent or too old)
    ├── DatabaseToolFailed             500.3  (backup or restore of the database failed)
    ├── BackupKeyMissing               500.100 (a backup with no key configured and no --unencrypted)
    └── BackupKeyInvalid               500.101 (the configured backup key cannot be read or is not an age key)

Messages are given in Chinese and English, short enough for a phone's dialog, and say what to do.
"""

from __future__ import annotations

__all__ = [
    "TaizhangError", "BadRequest", "MultipartMalformed", "XmlPartMissing", "XmlMalformed",
    "XmlForbiddenConstruct", "InstanceIdMissing", "AttachmentNameInvalid", "FormVersionUnknown",
    "FormIdMissing", "XFormInvalid", "IdentifierTooLong", "ScheduleInvalid", "Unauthorized", "LoginFailed", "LoginRequired", "PasswordRejected", "FormTokenInvalid", "TooManyRequests", "SignInLocked", "Forbidden", "TokenInvalid", "OutsideArea", "EditOutsideGroup", "MethodNotAllowed", "NotFound", "FormNotFound",
    "RecordNotFound", "DecisionNotPossible", "DecisionNotYetMergeable", "EditOriginalUnknown",
    "Conflict", "InstanceConflict", "EditAlreadySuperseded", "EditFormMismatch", "FormVersionConflict",
    "PayloadTooLarge", "UnsupportedMediaType", "ServiceUnavailable",
    "BackupInvalid", "NulCharacter", "ValueOutOfRange", "InstanceIdInvalid", "FieldValueInvalid", "IdNumberInvalid", "DateValueInvalid",
    "ChoiceValueInvalid", "PhoneInvalid", "RecheckMonthInFuture", "RecheckPercentInvalid", "RecheckNotInSample",
    "SampleAlreadyDrawn", "RechecksStarted", "AlreadyRechecked", "BackupIncompatible", "DatabaseNotEmpty", "DatabaseToolMissing", "DatabaseToolFailed",
    "PeriodInvalid",
]


class TaizhangError(Exception):
    """Base of every error taizhang reports to a user; `detail` adds specifics to the fixed message."""

    code = "500.1"
    status = 500
    message_zh = "服务器内部错误，请稍后重试。"
    message_en = "Internal server error; please try again later."

    def __init__(self, detail: str | None = None, **context: object) -> None:
        self.detail = detail
        self.context = context
        super().__init__(self.message())

    def message(self) -> str:
        text = f"{self.message_zh} / {self.message_en}"
        return f"{text} ({self.detail})" if self.detail else text


class BadRequest(TaizhangError):
    code, status = "400.0", 400
    message_zh = "请求有误。"
    message_en = "The request is not valid."


class MultipartMalformed(BadRequest):
    code = "400.1"
    message_zh = "上传内容格式不正确（需要 multipart/form-data），请重新发送。"
    message_en = "The upload is not well-formed multipart/form-data; please send it again."


class XmlPartMissing(BadRequest):
    code = "400.2"
    message_zh = "上传中缺少表单数据文件 xml_submission_file。"
    message_en = "The upload has no xml_submission_file part."


class XmlMalformed(BadRequest):
    code = "400.3"
    message_zh = "表单数据不是有效的 XML，请在手机上重新保存后再发送。"
    message_en = "The form data is not valid XML; re-save the form on the phone and send it again."


class XmlForbiddenConstruct(BadRequest):
    code = "400.4"
    message_zh = "表单数据含有不允许的 XML 结构（DTD 或实体）。"
    message_en = "The form data contains a forbidden XML construct (DTD or entity)."


class InstanceIdMissing(BadRequest):
    code = "400.5"
    message_zh = "表单数据缺少 meta/instanceID。"
    message_en = "The form data has no meta/instanceID."


class AttachmentNameInvalid(BadRequest):
    code = "400.6"
    message_zh = "附件文件名不合法（不能含路径）。"
    message_en = "An attachment's file name is not allowed (it must not contain a path)."


class FormVersionUnknown(BadRequest):
    code = "400.7"
    message_zh = "服务器上没有这个表单版本，请先在手机上下载最新表单。"
    message_en = "This form version is not on the server; download the latest form on the phone first."


class FormIdMissing(BadRequest):
    code = "400.8"
    message_zh = "表单数据的根元素没有 id 属性。"
    message_en = "The form data's root element has no id attribute."


class XFormInvalid(BadRequest):
    code = "400.9"
    message_zh = "表单定义无效。"
    message_en = "The form definition is not valid."


class IdentifierTooLong(BadRequest):
    code = "400.10"
    message_zh = "表单编号、版本或 instanceID 太长（最多255个字符）。"
    message_en = "The form ID, version or instanceID is too long (at most 255 characters)."


class PasswordRejected(BadRequest):
    code = "400.12"
    message_zh = "新密码不符合要求：至少 10 个字符，且不能与用户名相同。"
    message_en = "The new password is not accepted: at least 10 characters, and not the user name."


class FormTokenInvalid(BadRequest):
    code = "400.13"
    message_zh = "表单已过期或来源不明，请刷新页面后重试。"
    message_en = "The form has expired or did not come from this site; reload the page and try again."


class ScheduleInvalid(BadRequest):
    code = "400.11"
    message_zh = "访视计划文件有误，请按提示修改后再试。"
    message_en = "The visit schedule file is not valid; correct it as described and try again."


class BackupInvalid(BadRequest):
    code = "400.14"
    message_zh = "备份文件已损坏或不是 taizhang 的备份，没有做任何改动。"
    message_en = "The file is damaged or not a taizhang backup; nothing was changed."


class NulCharacter(BadRequest):
    code = "400.15"
    message_zh = "输入中含有空字符（NUL），不能保存；请删除后重新发送。"
    message_en = "The input contains a NUL character, which cannot be stored; remove it and send again."


class ValueOutOfRange(BadRequest):
    code = "400.16"
    message_zh = "数字或日期超出允许的范围（日期须在1900年至2199年之间）。"
    message_en = "A number or date is outside the accepted range (dates from 1900 to 2199)."


class FieldValueInvalid(BadRequest):
    """A value a person typed for a register field (a correction) that the field cannot hold."""

    code = "400.18"
    message_zh = "这一项的值不正确，请按要求填写。"
    message_en = "This value does not fit the field; please enter it as asked."


class IdNumberInvalid(FieldValueInvalid):
    code = "400.19"
    message_zh = "身份证号码不正确：须为18位，最后一位校验位须正确（可以是X）。"
    message_en = "The resident ID number is not valid: 18 characters with a correct check character (which may be X)."


class DateValueInvalid(FieldValueInvalid):
    code = "400.20"
    message_zh = "日期不正确：请按“年-月-日”填写，例如 2026-11-05。"
    message_en = "Not a date: write it as year-month-day, e.g. 2026-11-05."


class ChoiceValueInvalid(FieldValueInvalid):
    code = "400.21"
    message_zh = "请从列表中选择一项。"
    message_en = "Choose one of the list."


class PhoneInvalid(FieldValueInvalid):
    code = "400.22"
    message_zh = "手机号须为11位，以1开头（如13812345678）。"
    message_en = "A mobile number has 11 digits starting with 1 (e.g. 13812345678)."


class PeriodInvalid(BadRequest):
    code = "400.26"
    message_zh = "期间应写作月份 2026-11、季度 2026-Q4 或年份 2026。"
    message_en = "Write the period as a month 2026-11, a quarter 2026-Q4 or a year 2026."


class InstanceIdInvalid(BadRequest):
    code = "400.17"
    message_zh = "表单编号（instanceID）含有不允许的字符（如 / 或空白）；ODK Collect 生成的编号形如 uuid:…。"
    message_en = ("The instanceID contains characters that are not allowed (such as / or spaces); ODK Collect's "
                  "look like uuid:... .")


class Unauthorized(TaizhangError):
    code, status = "401.1", 401
    message_zh = "需要登录：请检查用户名和密码，或重新扫描二维码。"
    message_en = "Authentication required: check the user name and password, or scan the QR code again."


class LoginFailed(Unauthorized):
    code = "401.2"
    message_zh = "用户名或密码不正确。"
    message_en = "Wrong user name or password."


class LoginRequired(Unauthorized):
    code = "401.3"
    message_zh = "请先登录。"
    message_en = "Please sign in first."


class Forbidden(TaizhangError):
    code, status = "403.1", 403
    message_zh = "您没有权限使用这个表单或资源。"
    message_en = "You may not use this form or resource."


class TokenInvalid(Forbidden):
    code = "403.2"
    message_zh = "这个服务器地址里的令牌已失效，请向镇计生办索取新的二维码并重新扫描。"
    message_en = "The token in this server address is no longer valid; ask the town office for a new QR code."


class OutsideArea(Forbidden):
    code = "403.3"
    message_zh = "这条记录不在您负责的范围内，不能修改。"
    message_en = "This record is outside your area; you may not change it."


class EditOutsideGroup(Forbidden):
    code = "403.4"
    message_zh = "这份修改要替换的表单是别的小组上报的，不能修改。"
    message_en = "This edit replaces a form sent by another group; you may not change it."


class MethodNotAllowed(TaizhangError):
    code, status = "405.1", 405
    message_zh = "这个地址不支持该请求方法。"
    message_en = "This address does not accept that request method."


class NotFound(TaizhangError):
    code, status = "404.1", 404
    message_zh = "找不到请求的资源。"
    message_en = "The requested resource was not found."


class FormNotFound(NotFound):
    code = "404.2"
    message_zh = "服务器上没有这个表单，请联系村计生专干。"
    message_en = "This form is not on the server; contact your village cadre."


class RecordNotFound(NotFound):
    code = "404.3"
    message_zh = "登记册中没有这条记录（可能已被合并），请刷新后再试。"
    message_en = "This register record is not there (it may have been merged); refresh and try again."


class Conflict(TaizhangError):
    code, status = "409.0", 409
    message_zh = "与服务器上已有的数据冲突。"
    message_en = "This conflicts with data already on the server."


class InstanceConflict(Conflict):
    code = "409.1"
    message_zh = "服务器上已有同一编号（instanceID）但内容不同的表单；请勿重复使用编号，如需修改请用编辑功能。"
    message_en = ("A different form with the same instanceID is already on the server; "
                  "do not reuse instance IDs, edit the form instead.")


class EditAlreadySuperseded(Conflict):
    code = "409.2"
    message_zh = "这份表单已经被另一次修改取代，请下载最新数据后再修改。"
    message_en = "This form was already replaced by another edit; get the latest data before editing again."


class EditFormMismatch(Conflict):
    code = "409.3"
    message_zh = "修改后的表单与原表单不是同一个表单。"
    message_en = "The edited form is not the same form as the original."


class FormVersionConflict(Conflict):
    code = "409.4"
    message_zh = "这个表单版本号已发布过且内容不同，请提高版本号。"
    message_en = "This form version was already published with different content; raise the version."


class DecisionNotPossible(Conflict):
    code = "409.5"
    message_zh = "无法执行这个操作：记录已被处理，或不在同一个村。"
    message_en = "This cannot be done: the records were already dealt with, or are not in the same village."


class BackupIncompatible(Conflict):
    code = "409.6"
    message_zh = "这个备份不能恢复到这个数据库，没有做任何改动。"
    message_en = "This backup cannot be restored into this database; nothing was changed."


class DatabaseNotEmpty(Conflict):
    code = "409.7"
    message_zh = "数据库中已有数据，没有做任何改动；确定要用备份替换这些数据时请加 --force。"
    message_en = "The database already holds data; nothing was changed. Add --force to replace it with the backup."


class DecisionNotYetMergeable(Conflict):
    code = "409.8"
    message_zh = "这个决定涉及的访视还没有并入本服务器的台账；稍后会再次发送。"
    message_en = ("The visits this decision concerns are not merged into this server's register yet; "
                  "it is sent again later.")


class EditOriginalUnknown(Conflict):
    code = "409.9"
    message_zh = "这份修改要替换的原表单还没有发送到服务器：请先发送原表单，再发送修改。"
    message_en = "The form this edit replaces is not on the server: send the original form first, then the edit."


class PayloadTooLarge(TaizhangError):
    code, status = "413.1", 413
    message_zh = "上传内容太大，超过服务器限制。"
    message_en = "The upload is larger than the server accepts."


class TooManyRequests(TaizhangError):
    code, status = "429.1", 429
    message_zh = "尝试次数太多，请稍后再试。"
    message_en = "Too many attempts; wait a minute and try again."


class SignInLocked(TooManyRequests):
    """`retry_after` (seconds) goes into the Retry-After header."""

    code = "429.2"
    message_zh = "登录失败次数太多，已暂时锁定，请稍后再试。"
    message_en = "Too many failed sign-ins: locked for a while; try again later."


class UnsupportedMediaType(TaizhangError):
    code, status = "415.1", 415
    message_zh = "上传内容类型不正确，需要 multipart/form-data。"
    message_en = "Wrong content type; multipart/form-data is required."


class ServiceUnavailable(TaizhangError):
    code, status = "503.1", 503
    message_zh = "服务器暂时繁忙，表单仍保存在手机上，请稍后重新发送。"
    message_en = "The server is busy; the form is still on the phone, send it again later."


class DatabaseToolMissing(TaizhangError):
    code, status = "500.2", 500
    message_zh = "缺少数据库工具 pg_dump / pg_restore，或其版本比数据库服务器旧；请安装与服务器相同版本的 postgresql-client。"
    message_en = ("pg_dump / pg_restore is missing or older than the database server; install the postgresql-client "
                  "of the server's version.")


class DatabaseToolFailed(TaizhangError):
    code, status = "500.3", 500
    message_zh = "数据库备份或恢复失败，没有做任何改动（原因见后）。"
    message_en = "Backing up or restoring the database failed; nothing was changed (the reason follows)."


class RecheckMonthInFuture(BadRequest):
    code = "400.40"
    message_zh = "这个月份还没有到，不能为它抽取复查样本。"
    message_en = "This month has not begun; a re-check sample cannot be drawn for it."


class RecheckPercentInvalid(BadRequest):
    code = "400.41"
    message_zh = "抽样比例须大于 0 且不超过 100。"
    message_en = "The share to draw must be above 0 and at most 100 percent."


class RecheckNotInSample(NotFound):
    code = "404.40"
    message_zh = "这一户不在这个月的复查样本中，不能录入复查结果。"
    message_en = "This household is not in this month's re-check sample; no re-check can be recorded for it."


class SampleAlreadyDrawn(Conflict):
    code = "409.40"
    message_zh = "这个村这个月已经抽过样。如需重新抽样，请在样本页面点“重新抽样”并确认。"
    message_en = "This village's sample for the month is drawn already; to draw again, use \"Draw again\" and confirm."


class RechecksStarted(Conflict):
    code = "409.41"
    message_zh = "这个样本已经录入了复查结果，不能再重新抽样；样本保持不变。"
    message_en = "Re-checks of this sample have been recorded; it can no longer be drawn again and stays as it is."


class AlreadyRechecked(Conflict):
    code = "409.42"
    message_zh = "这一户本月的复查结果已经录入过，不能重复录入；发现的不符请从不符清单逐项更正登记册。"
    message_en = ("This household's re-check for the month is recorded already; correct the register from the list "
                  "of disagreements.")
# ---- a village's month signed off (server/months) ----------------------------------------------------------------

class MonthNotOver(BadRequest):
    code = "400.23"
    message_zh = "这个月还没有结束，不能提交月报：请在下个月1日以后提交。"
    message_en = "This month is not over yet: submit its report from the first day of next month."


class CommentRequired(BadRequest):
    code = "400.24"
    message_zh = "退回月报时请写明退回的原因。"
    message_en = "Say why you return the report: the comment cannot be empty."


class ConfirmationRequired(BadRequest):
    code = "400.25"
    message_zh = "请先勾选“我已检查本月数据”，再签字提交。"
    message_en = "Tick 'I have checked this month's data' first, then submit."


class SignoffNotYours(Forbidden):
    code = "403.5"
    message_zh = "只有本村的村专干能签字提交本村的月报，只有本镇的镇计生办能接收或退回。"
    message_en = ("Only the village's own cadre submits its month, and only its town office accepts or returns "
                  "it.")


class MonthAlreadySubmitted(Conflict):
    code = "409.10"
    message_zh = "这个月已经提交，正在等镇计生办审核；镇计生办退回后才能再次提交。"
    message_en = "This month is submitted and waits for the town office; it can be submitted again only if returned."


class MonthAccepted(Conflict):
    code = "409.11"
    message_zh = "这个月的月报已经被镇计生办接收，不能再更改。"
    message_en = "The town office has accepted this month's report; it cannot be changed any more."


class MonthNotSubmitted(Conflict):
    code = "409.12"
    message_zh = "这个月的月报现在不是“已提交、待审核”，不能接收或退回。"
    message_en = "This month's report is not waiting for the town office now; it cannot be accepted or returned."


__all__ += ["MonthNotOver", "CommentRequired", "ConfirmationRequired", "SignoffNotYours", "MonthAlreadySubmitted", "MonthAccepted",
            "MonthNotSubmitted"]


# ---- arrivals nobody expected, matched with a departure (server/register/decisions.merge_arrival) ---------------

class NotMovedAway(DecisionNotPossible):
    code = "409.60"
    message_zh = "此人现在没有迁出记录（可能已返回或已在别处确认迁入），不能作为迁入人员合并；台账未作改动。"
    message_en = ("This person is not recorded as moved away now (they may have returned, or arrived elsewhere): "
                  "the arrival cannot be merged with them; nothing was changed.")


class SameVillageMove(DecisionNotPossible):
    code = "409.61"
    message_zh = "两人在同一个村，这不是迁移：请按重复记录合并；台账未作改动。"
    message_en = "The two people are in the same village, so this is no move: merge them as duplicates; nothing was changed."


class ArrivalNotHere(DecisionNotPossible):
    code = "409.62"
    message_zh = "新登记的人员已不在本村居住（已迁出或已故），不能按迁入合并；台账未作改动。"
    message_en = ("The newly registered person no longer lives in the village (moved away or died): they cannot be "
                  "merged as an arrival; nothing was changed.")


__all__ += ["NotMovedAway", "SameVillageMove", "ArrivalNotHere"]
class NoticeInvalid(BadRequest):
    code = "400.70"
    message_zh = "协查通报的内容不完整或有误，请检查后重新填写。"
    message_en = "The service notice is incomplete or has a wrong value; check it and fill it in again."


class NoticeFileInvalid(BadRequest):
    code = "400.71"
    message_zh = "这个文件不是协查通报的导出文件（JSON 或 Excel），没有导入任何内容。"
    message_en = "This file is not an export of service notices (JSON or Excel); nothing was imported."


class NoticeTownUnknown(BadRequest):
    code = "400.72"
    message_zh = "收文的乡镇不是本县的乡镇。本县以外的地方请选“县外”并填写地名。"
    message_en = "The receiving town is not a town of the county; for a place outside, choose \"Outside\" and name it."


class NoticeNotYours(Forbidden):
    code = "403.70"
    message_zh = "这份协查通报不是本镇发出或收到的；只有收文乡镇的计生办能答复。"
    message_en = "This service notice was neither sent nor received by your town; only the receiving town answers it."


class NoticePersonNotHad(NotFound):
    code = "404.70"
    message_zh = "本镇台账中没有这个人（也不是从本镇迁出的），不能为其发协查通报。"
    message_en = ("This person is not in your town's register and did not move out of it; no notice can be sent "
                  "about them.")


class NoticeNotFound(NotFound):
    code = "404.71"
    message_zh = "找不到这份协查通报。"
    message_en = "This service notice was not found."


class NoticeAlreadyAnswered(Conflict):
    code = "409.70"
    message_zh = "这份协查通报已经答复过了。"
    message_en = "This service notice has been answered already."


class NoticeMismatch(Conflict):
    code = "409.71"
    message_zh = "已有一份编号相同但内容不同的协查通报，没有更改。"
    message_en = "A service notice with this id but other content is already here; nothing was changed."


__all__ += ["NoticeInvalid", "NoticeFileInvalid", "NoticeTownUnknown", "NoticeNotYours", "NoticePersonNotHad",
            "NoticeNotFound", "NoticeAlreadyAnswered", "NoticeMismatch"]
# ---- people who move (server/moves) --------------------------------------------------------------------------------

class MoveDayInvalid(BadRequest):
    code = "400.50"
    message_zh = "日期不对：请填写今天或以前的日期（迁入日期不能早于迁出日期）。"
    message_en = "The day is not valid: give today or an earlier day (an arrival not before the move out)."


class MovePlaceMissing(BadRequest):
    code = "400.51"
    message_zh = "迁往县外时请写明迁往的地方。"
    message_en = "For a move outside the county, write where the person went."


class DestinationUnknown(NotFound):
    code = "404.50"
    message_zh = "本县没有这个村或镇：请从列表中选择迁往的地方；迁往县外请选“县外”并写明地方。"
    message_en = ("There is no such village or town in the county: choose the destination from the list, or "
                  "\"outside the county\" and write the place.")


class PersonCannotMove(DecisionNotPossible):
    code = "409.50"
    message_zh = "这个人已经登记迁出或已故，不能再登记迁出；没有改动。"
    message_en = "This person has moved away already or has died; no move can be recorded. Nothing changed."


class ArrivalAlreadyConfirmed(DecisionNotPossible):
    code = "409.51"
    message_zh = "这个人的迁入已经确认过了，没有再改动。"
    message_en = "This person's arrival is confirmed already; nothing changed."


class ArrivalNotExpected(DecisionNotPossible):
    code = "409.52"
    message_zh = "这个人不在本村（镇）的待迁入名单上，不能确认迁入；没有改动。"
    message_en = "This person is not expected to arrive here, so the arrival cannot be confirmed; nothing changed."


class MoveToOwnVillage(DecisionNotPossible):
    code = "409.53"
    message_zh = "迁往的地方就是这个人现在住的村，不需要登记迁出；村内换户请用入户访视登记。"
    message_en = ("The destination is the village the person lives in: no move out is needed (a change of "
                  "household is recorded by a visit).")


__all__ += ["MoveDayInvalid", "MovePlaceMissing", "DestinationUnknown", "PersonCannotMove", "ArrivalAlreadyConfirmed",
            "ArrivalNotExpected", "MoveToOwnVillage"]


# ---- a person's own copy (server/copies) ---------------------------------------------------------------------------

class CopyRequestInvalid(BadRequest):
    code = "400.95"
    message_zh = "请填写申请人姓名（本人或代理人），并选择副本的形式（PDF 或 Excel）；没有登记。"
    message_en = ("Give the name of whoever asks (the person or a representative) and choose the copy's form (PDF or "
                  "Excel); nothing was recorded.")


class CopyRequestDayInvalid(BadRequest):
    code = "400.96"
    message_zh = "申请日期不对：请填写今天或以前的日期；没有登记。"
    message_en = "The day of the request is not valid: give today or an earlier day; nothing was recorded."


class CopyOutsideArea(OutsideArea):
    code = "403.95"
    message_zh = "这个人不在您负责的区域，不能为其办理个人信息副本；没有登记。请由其现居住地的村或镇办理。"
    message_en = ("This person is not in your area: you cannot make their own copy; nothing was recorded. The village "
                  "or town where they live makes it.")


class CopyRequestNotFound(NotFound):
    code = "404.95"
    message_zh = "找不到这个人的这份副本申请。"
    message_en = "This copy request of this person was not found."


class CopyNotProduced(Conflict):
    code = "409.95"
    message_zh = "这份副本还没有生成，不能登记交付：请先下载（生成）副本，交给本人后再登记。"
    message_en = "This copy has not been produced yet, so it cannot be handed over: download it first, then record it."


class CopyAlreadyHandedOver(Conflict):
    code = "409.96"
    message_zh = "这份副本已经登记交付，不能再交付或重新生成；如需新的副本，请重新登记申请。"
    message_en = ("This copy was handed over already: it is neither handed over nor produced again. For a newer copy, "
                  "record a new request.")


__all__ += ["CopyRequestInvalid", "CopyRequestDayInvalid", "CopyOutsideArea", "CopyRequestNotFound",
            "CopyNotProduced", "CopyAlreadyHandedOver"]
# ---- privacy: backups encrypted at rest, unusual reading (issue 21) ---------------------------------------------

class BackupKeyWrong(BadRequest):
    code = "400.100"
    message_zh = "这个备份是用另一把密钥加密的，用配置的密钥解不开，没有做任何改动；请配置做备份时用的密钥。"
    message_en = ("This backup was encrypted with another key and the configured key cannot open it; nothing was "
                  "changed. Configure the key the backup was made with.")


class BackupTampered(BadRequest):
    code = "400.101"
    message_zh = "加密的备份已损坏、被改动或不完整，没有做任何改动；请用另一份备份。"
    message_en = "The encrypted backup is damaged, altered or cut short; nothing was changed. Use another copy."


class BackupKeyNeeded(BadRequest):
    code = "400.102"
    message_zh = "这个备份是加密的：请用 TAIZHANG_BACKUP_KEY_FILE 配置做备份时用的私钥后再恢复；没有做任何改动。"
    message_en = ("This backup is encrypted: configure the secret key it was made with (TAIZHANG_BACKUP_KEY_FILE) "
                  "and restore again; nothing was changed.")


class BackupKeyMissing(TaizhangError):
    code, status = "500.100", 500
    message_zh = ("没有配置备份密钥，备份未做：请设置 TAIZHANG_BACKUP_KEY_FILE（用 taizhang backup-key 生成），"
                  "确需不加密的备份时请加 --unencrypted。")
    message_en = ("No backup key is configured, so no backup was made: set TAIZHANG_BACKUP_KEY_FILE (make one with "
                  "taizhang backup-key), or add --unencrypted if an unencrypted backup is really wanted.")


class BackupKeyInvalid(TaizhangError):
    code, status = "500.101", 500
    message_zh = "配置的备份密钥读不出或不是 age 密钥，没有做任何改动（原因见后）。"
    message_en = "The configured backup key cannot be read or is not an age key; nothing was changed (see why)."


__all__ += ["BackupKeyWrong", "BackupTampered", "BackupKeyNeeded", "BackupKeyMissing", "BackupKeyInvalid"]
# ---- consent withdrawn (issue 21: sync/consent.py, server/privacy/consent.py) ------------------------------------

class ConsentDayInvalid(BadRequest):
    code = "400.90"
    message_zh = "日期不对：请填写本人撤回同意的日期（今天或以前）。"
    message_en = "The day is not valid: give the day the person withdrew consent (today or earlier)."


class ConsentNoteTooLong(BadRequest):
    code = "400.91"
    message_zh = "备注太长：最多200个字。"
    message_en = "The note is too long: at most 200 characters."


class ConsentNotConfirmed(BadRequest):
    code = "400.92"
    message_zh = "请先勾选确认：撤回后，本人凭同意登记的服务记录将被隐藏并在下次清理时删除。"
    message_en = ("Tick the confirmation first: once withdrawn, the services recorded with the person's consent are "
                  "hidden and removed at the next purge.")


class ConsentNothingRecorded(DecisionNotPossible):
    code = "409.90"
    message_zh = "台账中没有这个人凭同意登记的服务记录（孕期保健指导、孕前优生健康检查），无需撤回；没有改动。"
    message_en = ("The register holds nothing recorded with this person's consent (antenatal guidance, the "
                  "pre-pregnancy check): there is nothing to withdraw. Nothing changed.")


__all__ += ["ConsentDayInvalid", "ConsentNoteTooLong", "ConsentNotConfirmed", "ConsentNothingRecorded"]
# ---- retention and purge (server/privacy, docs/retention.md) ------------------------------------------------------

class RetentionPeriodTooShort(BadRequest):
    code = "400.85"
    message_zh = "保存期限短于该规则允许的最短期限，没有清除任何记录；请改用不短于最短期限的天数。"
    message_en = ("A retention period is under its rule's minimum; nothing was purged. Give a period of at least the "
                  "minimum.")


class RetentionRuleUnknown(BadRequest):
    code = "400.86"
    message_zh = "没有这个保存期限规则，没有清除任何记录；规则为：died、moved_out_of_county、aged_out、consent_withdrawn、location。"
    message_en = ("There is no such retention rule; nothing was purged. The rules are died, moved_out_of_county, "
                  "aged_out, consent_withdrawn and location.")


__all__ += ["RetentionPeriodTooShort", "RetentionRuleUnknown"]
# ---- exports with ID numbers and phones in full (issue 21: masked by default) --------------------------------------

class ExportReasonRequired(BadRequest):
    code = "400.80"
    message_zh = "导出完整身份证号和电话须写明原因；没有导出。"
    message_en = "An export with full ID numbers and phones needs a reason; nothing was exported."


class ExportReasonTooLong(BadRequest):
    code = "400.81"
    message_zh = "导出原因最多300个字；没有导出。"
    message_en = "The reason for the export is at most 300 characters; nothing was exported."


__all__ += ["ExportReasonRequired", "ExportReasonTooLong"]

"""A small dictionary translation: Simplified Chinese by default, English on request.

UI strings are written in English and looked up in ``ZH``; strings that come from the engine in Chinese
(case status labels) are looked up in ``EN`` when the reader chose English. The language lives in the
session (``POST /lang``). ``tests/test_worklist_i18n.py`` checks that every string used has a translation.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, session

__all__ = ["EN", "LANGUAGES", "ZH", "current_lang", "gettext", "init_app"]

LANGUAGES = ("zh", "en")

ZH: dict[str, str] = {
    # layout and sign-in
    "One window": "一窗通办",
    "Main": "主菜单",
    "My worklist": "我的待办",
    "Intake": "统一受理",
    "Cases": "办件查询",
    "Service guide": "办事指南",
    "Sign in": "登录",
    "Sign out": "退出",
    "Signed in as {name}.": "已登录:{name}。",
    "Signed out.": "已退出。",
    "User name": "用户名",
    "Password": "密码",
    "Wrong user name or password.": "用户名或密码错误。",
    "Worklist of window clerks, section reviewers and chiefs.": "窗口受理人员、科室审查人员和科长的工作台。",
    "public, no sign-in needed": "公开,无需登录",
    "clerk": "经办人",
    "chief": "科长",
    "admin": "管理员",
    # worklist
    "{n} open tasks in my sections": "本科室待办 {n} 件",
    "Matter": "事项",
    "Section": "科室",
    "all": "全部",
    "claimed by me": "我认领的",
    "unclaimed": "未认领",
    "Search": "搜索",
    "case number or applicant": "办件编号或申请人",
    "Filter": "筛选",
    "Reset": "重置",
    "Case number": "办件编号",
    "Applicant": "申请人",
    "Step": "环节",
    "Received": "收件时间",
    "Arrived": "到达时间",
    "Due": "办结期限",
    "Time left": "剩余时间",
    "Claimed by": "认领人",
    "Actions": "操作",
    "not accepted yet": "尚未受理",
    "due date of this step": "本环节期限",
    "step": "环节",
    "Claim": "认领",
    "Unclaim": "取消认领",
    "Reassign": "改派",
    "Reassign to": "改派给",
    "nobody (section)": "无(退回科室)",
    "No open tasks.": "暂无待办。",
    "Previous": "上一页",
    "Next": "下一页",
    "Pages": "分页",
    "Page {page} of {pages}": "第 {page} / {pages} 页",
    "overdue": "逾期",
    "{n} working days": "{n} 个工作日",
    "due today": "今日到期",
    "1 working day left": "剩 1 个工作日",
    "{n} working days left": "剩 {n} 个工作日",
    # tasks
    "arrived": "到达",
    "step due": "环节期限",
    "This task is {state}.": "该任务{state}。",
    "ready": "待办理",
    "completed": "已办结",
    "cancelled": "已取消",
    "Completed by {who} at {at}.": "办理人:{who},时间:{at}。",
    "Open the case": "查看办件",
    "Claimed by you.": "已由你认领。",
    "Claimed by {who}: only they can complete it.": "已由{who}认领,只有认领人可以办理。",
    "Not claimed.": "尚未认领。",
    "Complete the task": "办理",
    "Complete": "提交办理",
    "Back to my worklist": "返回我的待办",
    "Earlier opinions": "前序意见",
    "Case": "办件",
    "Please correct the marked fields.": "请更正标出的内容。",
    "Completed: {task} ({case}).": "已办理:{task}({case})。",
    "Claimed: {task} ({case}).": "已认领:{task}({case})。",
    "{task} ({case}) was claimed or completed by someone else meanwhile.": "{task}({case})已被他人认领或办理。",
    "Returned to the section: {task} ({case}).": "已退回科室待认领:{task}({case})。",
    "{task} ({case}) is not claimed by you.": "{task}({case})不是你认领的任务。",
    "Reassigned {task} ({case}) to {who}.": "已将{task}({case})改派给{who}。",
    "— choose —": "— 请选择 —",
    "one per line": "每行一项",
    "required": "必填",
    "yes": "是",
    "no": "否",
    "none": "无",
    "system": "系统",
    # case summary and case page
    "Status": "状态",
    "Accepted": "受理时间",
    "Committed due date": "承诺办结时间",
    "counted from acceptance": "自受理之日起计算",
    "Legal due date": "法定办结时间",
    "Finished": "办结时间",
    "finished": "已办结",
    "Application": "申请信息",
    "Materials": "申请材料",
    "if applicable": "如适用",
    "Notice of missing materials": "一次性告知书",
    "Acceptance receipt": "受理通知书",
    "Open tasks": "当前环节",
    "since": "到达",
    "claimed by": "认领人",
    "Process": "办理流程",
    "done": "已完成",
    "current": "当前",
    "The diagram is not available.": "流程图暂不可用。",
    "full size": "查看原图",
    "History": "办理记录",
    "{n} cases touching my sections": "涉及本科室的办件 {n} 件",
    "No cases.": "暂无办件。",
    # intake
    "Intake: choose the matter": "统一受理:选择事项",
    "committed": "承诺时限",
    "No matters deployed.": "尚未部署事项。",
    "Materials received": "收取材料",
    "Tick each material handed in and in legal form. Missing required materials produce a one-time notice; "
    "the case then waits for the supplement.": "逐项勾选申请人已提交且符合法定形式的材料。缺少必备材料的,"
    "出具一次性告知书,办件进入补正。",
    "Material": "材料名称",
    "Issued by": "出具单位",
    "Originals": "原件",
    "Copies": "复印件",
    "Required": "是否必备",
    "Intake check": "受理核验",
    "Register": "登记",
    "Cancel": "取消",
    "Please correct the marked fields; nothing was registered.": "请更正标出的内容;本次未登记任何办件。",
    "Case {case} registered; required materials are missing.": "办件 {case} 已登记;必备材料不全,请出具一次性告知书。",
    "Case {case} accepted.": "办件 {case} 已受理。",
    "Case {case} registered.": "办件 {case} 已登记。",
    "Print": "打印",
    "Next step": "下一步",
    # guide
    "Matters handled by the bureau: conditions, materials, time limits, fees and where to apply.": "本局办理的事项:"
    "受理条件、申请材料、办理时限、收费及办理地点。",
    "Code": "编码",
    "Type": "事项类型",
    "Handling": "办件类型",
    "Committed limit": "承诺时限",
    "Legal limit": "法定时限",
    "handled on the spot": "即办件",
    "committed time limit": "承诺件",
    "other handling": "其他",
    "Basic information": "基本信息",
    "Basic code": "基本编码",
    "Implementation code": "实施编码",
    "Implemented by": "实施主体",
    "Handled by": "承办科室",
    "lead": "主办",
    "Result": "办理结果",
    "Supervising department": "监管部门",
    "Legal basis": "设定依据",
    "Time limits": "办理时限",
    "Counted from acceptance; time for supplementing materials, hearings, testing and expert review is not "
    "counted.": "自受理之日起计算;补正材料、听证、检验检测、专家评审等时间不计入办理时限。",
    "Conditions": "受理条件",
    "Fees": "收费标准",
    "Charged": "收费",
    "Free of charge": "不收费",
    "Where and when": "办理地点和时间",
    "Location": "办理地点",
    "Office hours": "办公时间",
    "Phone": "咨询电话",
    "Ways to apply": "办理形式",
    "{value} working days": "{value} 个工作日",
    "{value} calendar days": "{value} 个自然日",
    "{value} working hours": "{value} 个工作小时",
    # errors
    "400": "请求有误",
    "401": "需要登录",
    "403": "无权访问",
    "404": "未找到",
    "405": "不支持的操作",
    "409": "已被他人处理",
    "413": "提交内容过大",
    "500": "系统错误",
    "503": "服务暂不可用",
    "The form has expired": "表单已过期",
    "The security token of the form was missing or out of date. Go back, reload the page and submit again.": "表单的"
    "安全令牌缺失或已过期。请返回、刷新页面后重新提交。",
    "Someone else changed this meanwhile: nothing of yours was saved. Reload to see the current state.": "他人已在此"
    "期间处理了该任务,你的提交未保存。请刷新查看最新状态。",
    "This belongs to another section.": "该内容属于其他科室。",
    # the legal clock on the case page
    "Legal clock": "法定时限",
    "Not accepted yet: the clock starts at acceptance.": "尚未受理:时限自受理之日起计算。",
    "Paused": "暂停计时",
    "clock paused": "暂停计时",
    "special procedure since {at}": "特别程序自 {at} 起",
    "Start (acceptance)": "起算(受理)",
    "Limit": "时限",
    "Due without pauses or extensions": "不计暂停与延期的截止",
    "Special procedures (not counted)": "特别程序(不计入)",
    "Extensions (working days)": "延期(工作日)/上限",
    "Special procedures": "特别程序",
    "ongoing": "进行中",
    "Extensions": "延期",
    "approved by {who}": "批准人 {who}",
    "Holidays and make-up working days crossed": "期间经过的节假日与调休工作日",
    "holiday": "节假日",
    "makeup_workday": "调休上班",
    "weekend": "周末",
    "workday": "工作日",
    "{year}: the official schedule is not published yet; statutory holidays are computed, make-up working days "
    "are unknown": "{year} 年官方节假日安排尚未公布:已按法定节日推算,调休上班日未知",
    # holiday names as chinesecalendar and holidays give them
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Chinese New Year (Spring Festival)": "春节",
    "Chinese New Year's Eve": "除夕",
    "Tomb-sweeping Day": "清明节",
    "Tomb-Sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Labor Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "Mid-Autumn Festival": "中秋节",
    "Mid-Autumn Festival; National Day": "中秋节、国庆节",
    "National Day": "国庆节",
    "The database is not available. Try again shortly; if it persists, tell the administrator.": "数据库暂不可用,"
    "请稍后再试;如持续出现,请联系管理员。",
}

# Chinese strings the engine hands over (case status labels, deadline levels), for English readers.
EN: dict[str, str] = {
    "已接件": "received",
    "补正中": "awaiting supplement",
    "办理中": "in progress",
    "不予受理": "not accepted",
    "办结(通过)": "finished (approved)",
    "办结(不通过)": "finished (refused)",
}


def current_lang() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def gettext(text: str, **values: Any) -> str:
    table = ZH if current_lang() == "zh" else EN
    translated = table.get(text, text)
    return translated.format(**values) if values else translated


def init_app(app: Flask) -> None:
    app.jinja_env.globals["_"] = gettext

    @app.context_processor
    def _lang() -> dict[str, Any]:
        return {"lang": current_lang()}

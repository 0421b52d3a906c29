"""The one catalogue of every string the dashboard shows, in Chinese (default) and English."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LANGS = ("zh", "en")

# key: (zh, en). Parameters use str.format names.
CATALOGUE: dict[str, tuple[str, str]] = {
    "app.title": ("坪山区网格与视频指挥系统", "Pingshan grid and video command"),
    "app.lang_switch": ("English", "中文"),
    "app.logout": ("退出", "Log out"),
    "app.forbidden": ("无权访问此页面", "You may not open this page"),
    "app.not_found": ("页面不存在", "Page not found"),
    "nav.wall": ("大屏", "Wall"),
    "nav.console": ("调度台", "Console"),
    "nav.field": ("网格员", "Field"),
    "nav.cameras": ("摄像机", "Cameras"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad": ("用户名或密码错误", "Wrong user name or password"),
    "login.limited": ("登录失败次数过多，请 {minutes} 分钟后再试", "Too many failed attempts; try again in {minutes} min"),
    "login.csrf": ("页面已过期，请重新登录", "The page expired; please log in again"),
    "role.dispatcher": ("调度员", "dispatcher"),
    "role.supervisor": ("网格督导", "supervisor"),
    "role.grid_worker": ("网格员", "grid worker"),
    "role.maintenance": ("运维", "maintenance"),
    "role.wall": ("大屏", "wall"),
    "role.admin": ("管理员", "admin"),
    # The wall
    "wall.today": ("今日事件", "Today"),
    "wall.open": ("未结事件", "Open"),
    "wall.overdue": ("超期", "Overdue"),
    "wall.on_time": ("按期结案率", "On-time closure"),
    "wall.cameras_online": ("摄像机在线", "Cameras online"),
    "wall.ticker": ("最新事件", "Latest incidents"),
    "wall.ranking": ("街道排名（未结）", "Streets by open incidents"),
    "wall.live_ok": ("实时", "Live"),
    "wall.stale": ("数据已 {n} 秒未更新", "data {n} s old"),
    "wall.disconnected": ("连接中断，正在重连", "disconnected, reconnecting"),
    "wall.alarm": ("高优先级警报", "High-priority alarm"),
    "wall.no_incidents": ("暂无事件", "No incidents"),
    # Families, statuses, priorities, health
    "family.crime": ("防控违法犯罪", "crime"),
    "family.dispute": ("化解矛盾纠纷", "dispute"),
    "family.hazard": ("排除安全隐患", "hazard"),
    "family.maintenance": ("设施运维", "maintenance"),
    "status.reported": ("待核实", "reported"),
    "status.dispatched": ("已分拨", "dispatched"),
    "status.accepted": ("已接收", "accepted"),
    "status.in_progress": ("处置中", "in progress"),
    "status.resolved": ("已处置", "resolved"),
    "status.closed": ("已结案", "closed"),
    "status.returned": ("已退回", "returned"),
    "status.cancelled": ("已取消", "cancelled"),
    "priority.1": ("高", "high"),
    "priority.2": ("中", "medium"),
    "priority.3": ("低", "low"),
    "health.online": ("在线", "online"),
    "health.degraded": ("异常", "degraded"),
    "health.offline": ("离线", "offline"),
    "health.unknown": ("未知", "unknown"),
    "level.grid": ("网格", "grid"),
    "level.community": ("社区", "community"),
    "level.street": ("街道", "street"),
    "level.district": ("区", "district"),
    # Actions of the life cycle
    "action.verify": ("核实分拨", "verify"),
    "action.dispatch": ("分拨", "dispatch"),
    "action.redispatch": ("重新分拨", "re-dispatch"),
    "action.accept": ("接收", "accept"),
    "action.start": ("开始处置", "start"),
    "action.resolve": ("处置完成", "resolve"),
    "action.close": ("核查结案", "close"),
    "action.reopen": ("退回重办", "reopen"),
    "action.return": ("退回", "return"),
    "action.cancel": ("取消", "cancel"),
    "action.escalate": ("督办升级", "escalate"),
    "action.warn": ("临期预警", "deadline warning"),
    "action.overdue": ("超期", "overdue"),
    "action.create": ("上报", "reported"),
    "action.merge": ("合并上报", "merged report"),
    "action.acknowledge": ("确认警报", "acknowledge"),
    # The console
    "console.verification": ("核实队列", "Verification queue"),
    "console.queue": ("事件队列", "Incident queue"),
    "console.filter_status": ("状态", "Status"),
    "console.filter_family": ("类别", "Family"),
    "console.filter_priority": ("优先级", "Priority"),
    "console.filter_overdue": ("仅超期", "Overdue only"),
    "console.note": ("说明", "Note"),
    "console.worker": ("网格员", "Worker"),
    "console.history": ("处置过程", "History"),
    "console.workload": ("工作量", "Workload"),
    "console.workload_open": ("未结", "open"),
    "console.workload_overdue": ("超期", "overdue"),
    "console.workload_ontime": ("本周按期结案", "closed on time this week"),
    "console.move_base": ("调整基础网格", "Move a base grid"),
    "console.base_grid": ("基础网格", "Base grid"),
    "console.target_sub_grid": ("目标综治网格", "Target sub-grid"),
    "console.reason": ("原因", "Reason"),
    "console.preview": ("预览", "Preview"),
    "console.confirm": ("确认", "Confirm"),
    "console.preview_text": ("将移动 {n} 个未结事件；{src}：{a}→{b}，{dst}：{c}→{d}",
                             "{n} open incidents move; {src}: {a}→{b}, {dst}: {c}→{d}"),
    "console.moved": ("已调整：{base} → {dst}", "Moved: {base} → {dst}"),
    "console.replace": ("更换网格员", "Replace a worker"),
    "console.role_primary": ("主责", "primary"),
    "console.role_backup": ("备岗", "backup"),
    "console.replaced": ("已更换：{sub} {role} → {worker}", "Replaced: {sub} {role} → {worker}"),
    "console.alarms": ("待确认警报", "Alarms to acknowledge"),
    "console.done": ("已完成：{action}", "Done: {action}"),
    "console.select": ("请选择事件", "Select an incident"),
    "console.snapshot": ("抓拍", "Snapshot"),
    "console.need_reason": ("请填写原因", "A reason is required"),
    "console.not_ready": ("事件处置模块尚未就绪", "The incident module is not installed yet"),
    "console.out_of_scope": ("超出您的管辖范围", "Outside your scope"),
    # The field tablet
    "field.on_duty": ("在岗", "On duty"),
    "field.off_duty": ("离岗", "Off duty"),
    "field.my_tasks": ("我的任务", "My tasks"),
    "field.new_task": ("新任务", "New task"),
    "field.due": ("期限 {at}", "due {at}"),
    "field.report": ("上报事件", "Report"),
    "field.matter": ("事项", "Matter"),
    "field.search": ("搜索事项", "Search matters"),
    "field.description": ("描述", "Description"),
    "field.photo": ("照片", "Photo"),
    "field.gps": ("定位", "Locate me"),
    "field.tap_map": ("无定位时请在地图上点选位置", "No GPS: tap the map to place it"),
    "field.no_gps": ("无法获取定位，请在地图上点选", "No GPS position; tap the map"),
    "field.outside": ("该位置不在坪山区内", "This position is outside the district"),
    "field.photo_large": ("照片超过 10 MB", "The photo is larger than 10 MB"),
    "field.send": ("提交", "Send"),
    "field.pending": ("待发送 {n} 条", "{n} waiting to send"),
    "field.sent": ("已发送", "Sent"),
    "field.offline": ("离线：将在联网后发送", "Offline: will send when the network is back"),
    "field.need_matter": ("请选择事项", "Choose a matter"),
    "field.need_position": ("请提供位置", "A position is needed"),
    "field.return_reason": ("退回原因", "Reason for returning"),
    "field.no_tasks": ("暂无任务", "No tasks"),
    "field.back": ("返回", "Back"),
    # Cameras
    "cameras.title": ("摄像机与视频质量诊断", "Cameras and video quality"),
    "cameras.code": ("编号", "Code"),
    "cameras.name": ("名称", "Name"),
    "cameras.health": ("状态", "Health"),
    "cameras.health_at": ("检测时间", "Checked"),
    "cameras.snapshot": ("最新抓拍", "Latest snapshot"),
    "cameras.no_snapshot": ("暂无抓拍", "No snapshot yet"),
    "cameras.zones": ("布控区域", "Zones"),
    "cameras.zone_save": ("保存区域", "Save zones"),
    "cameras.zone_rule": ("规则", "Rule"),
    "cameras.zone_saved": ("区域已保存", "Zones saved"),
    "cameras.zone_bad": ("区域格式错误：{why}", "Bad zones: {why}"),
    "cameras.situations": ("近期事件", "Recent situations"),
    "cameras.cases": ("运维工单", "Maintenance cases"),
    "cameras.select": ("请选择摄像机", "Select a camera"),
    # Answers of the tablet API and the request guards
    "api.no_task": ("没有这个任务", "no such task"),
    "api.no_incident": ("没有这个事件", "no such incident"),
    "api.no_worker": ("没有这个网格员", "no such worker"),
    "api.bad_event_id": ("event_id 必须是 UUID", "event_id must be a UUID"),
    "api.bad_action": ("需要 event_id、incident_id 和有效的操作", "event_id, incident_id and a field action are required"),
    "api.bad_photo": ("照片必须是 JPEG 或 PNG 图像", "the photo must be a JPEG or PNG image"),
    "api.csrf": ("请求校验失败，请刷新页面", "CSRF check failed; reload the page"),
    "api.login_required": ("请先登录", "login required"),
    # Camera rule kinds (video/config.py)
    "rule.intrusion": ("闯入禁区", "intrusion"),
    "rule.loitering": ("徘徊", "loitering"),
    "rule.crowd": ("人员聚集", "crowd"),
    "rule.object_left": ("物品遗留", "object left"),
    "rule.vehicle_stopped": ("车辆违停", "vehicle stopped"),
    # Errors shown from the server
    "error.transition": ("操作被拒绝：{why}", "Refused: {why}"),
    "error.generic": ("操作失败", "The operation failed"),
}

# Violation codes of grid/rules.py (MESSAGES there is the English default); same parameters.
VIOLATIONS: dict[str, tuple[str, str]] = {
    "missing_field": ("缺少字段 {field!r}", "field {field!r} is missing"),
    "bad_code_format": ("编码 {value!r} 不是{level}编码（{expected}）", "code {value!r} is not a {level} code ({expected})"),
    "parent_mismatch": ("编码 {value} 不以上级编码 {parent} 开头", "code {value} does not start with its parent code {parent}"),
    "duplicate_code": ("编码 {value} 在文件中重复", "code {value} appears more than once in the file"),
    "code_exists": ("编码 {value} 已存在（如需更新请用 --replace）",
                    "code {value} is already in the database (use --replace to update it)"),
    "empty_geometry": ("几何为空", "geometry is empty"),
    "not_polygon": ("几何类型为 {geom_type}，不是面", "geometry is a {geom_type}, not a polygon"),
    "invalid_geometry": ("几何无效：{reason}", "invalid geometry: {reason}"),
    "coordinates_out_of_range": ("坐标超出经纬度范围（范围 {bounds}）", "coordinates outside the lon/lat range (bounds {bounds})"),
    "wrong_crs_suspected": ("坐标系疑似错误：{reason}（范围 {bounds}）",
                            "coordinates look like the wrong CRS: {reason} (bounds {bounds})"),
    "parent_missing": ("上级{parent_level} {parent} 不存在", "parent {parent_level} {parent} is not in the database"),
    "outside_parent": ("超出上级{parent_level} {parent} {outside_m2:.1f} 平方米（容差 {tolerance_m:g} 米）",
                       "lies outside its {parent_level} {parent} by {outside_m2:.1f} m² (tolerance {tolerance_m:g} m)"),
    "overlaps_sibling": ("与 {other} 重叠 {area_m2:.1f} 平方米", "overlaps {other} by {area_m2:.1f} m²"),
    "children_outside": ("新边界使下级{child_level} {child} 落在外面", "new shape leaves its {child_level} {child} outside"),
    "base_grid_uncovered": ("没有综治网格包含该基础网格的中心点", "no sub-grid polygon holds this base grid's centroid"),
    "crosses_community": ("社区 {community} 的基础网格落入社区 {other_community} 的综治网格 {other}",
                          "base grid of community {community} falls in sub-grid {other} of community {other_community}"),
    "ambiguous_sub_grid": ("中心点落在多个综治网格中（{others}）", "centroid lies in several sub-grid polygons ({others})"),
    "sub_grid_empty": ("综治网格将没有基础网格", "sub-grid would be left without base grids"),
    "open_incidents": ("有 {count} 个未结事件指向它，不能删除或清空",
                       "cannot be removed or emptied: {count} open incident(s) point at it"),
    "has_assignments": ("已有网格员分配到该综治网格，不能删除", "cannot be removed: grid workers are assigned to this sub-grid"),
    "unreadable": ("无法读取：{reason}", "cannot be read: {reason}"),
    "bad_crs": ("未知坐标系 {crs!r}：{reason}", "unknown CRS {crs!r}: {reason}"),
    "database_rule": ("数据库拒绝导入：{reason}", "the database refused the import: {reason}"),
}


def t(key: str, lang: str = "zh", **params) -> str:
    """The string of `key` in `lang`, formatted with params; the key itself when missing."""
    pair = CATALOGUE.get(key)
    if pair is None:
        logger.warning("no catalogue entry for %s", key)
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def violation(code: str, params: dict | None = None, default: str | None = None, lang: str = "zh") -> str:
    """A grid-rule violation code as a sentence in `lang`; grid/'s default message when unknown."""
    pair = VIOLATIONS.get(code)
    if pair is None:
        return default or code
    try:
        return (pair[1] if lang == "en" else pair[0]).format(**(params or {}))
    except (KeyError, IndexError):
        return default or code


def label(prefix: str, value, lang: str) -> str:
    """A value of an enum-like column (status, family, ...) in `lang`, the raw value when unknown."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in CATALOGUE else str(value)


def client_strings(lang: str) -> dict[str, str]:
    """The subset the browser scripts need (wall status line, field queue), for one language."""
    keys = ("wall.live_ok", "wall.stale", "wall.disconnected", "field.pending", "field.sent", "field.offline",
            "field.no_gps", "field.outside", "field.photo_large", "field.need_matter", "field.need_position",
            "field.new_task", "field.return_reason", "wall.alarm")
    return {k: t(k, lang) for k in keys}

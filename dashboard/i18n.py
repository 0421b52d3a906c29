"""The one catalogue of every string the dashboard shows, in Chinese (default) and English."""

from __future__ import annotations

import logging
import re

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
    "nav.reports": ("报表", "Reports"),
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
    "role.system": ("系统", "system"),
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
    "wall.sound_on": ("点击开启警报声音", "Click to turn on the alarm sound"),
    "wall.no_incidents": ("暂无事件", "No incidents"),
    "wall.no_alarms": ("暂无待确认警报", "No alarms to acknowledge"),
    "wall.chart_hourly": ("今日每小时事件 · 虚线为近 7 天同时段均值", "Incidents per hour today · dotted: 7-day mean"),
    "wall.chart_on_time": ("按期结案率 · 近 30 天", "On-time closure · last 30 days"),
    "wall.chart_cameras": ("各街道摄像机可用率 · 近 7 天", "Camera availability by street · 7 days"),
    "wall.target": ("目标 {pct}", "target {pct}"),
    "wall.family.crime": ("治安", "crime"),
    "wall.family.dispute": ("纠纷", "dispute"),
    "wall.family.hazard": ("隐患", "hazard"),
    "wall.family.maintenance": ("运维", "upkeep"),
    "wall.layer.live": ("实时事件", "Live incidents"),
    "wall.layer.analysis": ("热点与新兴热点", "Hot spots and emerging"),
    "wall.layer.cameras": ("摄像机覆盖与状态", "Camera coverage and health"),
    "wall.layer.workers": ("在岗网格员", "Grid workers on duty"),
    "wall.legend.cluster": ("圆内数字：未结事件数", "number: open incidents"),
    "wall.legend.overdue": ("红圈：含超期案件", "red ring: overdue cases"),
    "wall.legend.coverage": ("浅色圆：约 100 米覆盖", "pale disc: ~100 m coverage"),
    "wall.legend.on_duty": ("在岗 {n}", "on duty {n}"),
    "wall.legend.off_duty": ("离岗 {n}", "off duty {n}"),
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
    "action.false_alarm": ("误报取消", "cancel: false alarm"),
    "action.escalate": ("督办升级", "escalate"),
    "action.warn": ("临期预警", "deadline warning"),
    "action.overdue": ("超期", "overdue"),
    "action.create": ("上报", "reported"),
    "action.merge": ("合并上报", "merged report"),
    "action.acknowledge": ("确认警报", "acknowledge"),
    "action.situation_update": ("现场态势更新", "situation update"),
    "action.situation_end": ("现场态势结束", "situation ended"),
    "action.recheck": ("摄像头复核", "camera recheck"),
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
    "console.plan_moves": ("将移动 {n} 个未结事件（其中 {r} 个重新分拨）", "{n} open incidents move ({r} re-dispatched)"),
    "console.plan_workload": ("工作量（未结任务，调整前 → 调整后）", "Workload (open tasks, before → after)"),
    "console.relabel": ("仅更新网格", "grid label only"),
    "console.moved": ("已调整：{base} → {dst}", "Moved: {base} → {dst}"),
    "console.replace": ("更换网格员", "Replace a worker"),
    "console.role_primary": ("主责", "primary"),
    "console.role_backup": ("备岗", "backup"),
    "console.replaced": ("已更换：{sub} {role} → {worker}", "Replaced: {sub} {role} → {worker}"),
    "console.alarms": ("待确认警报", "Alarms to acknowledge"),
    "console.done": ("已完成：{action}", "Done: {action}"),
    "console.select": ("请选择事件", "Select an incident"),
    "console.snapshot": ("抓拍", "Snapshot"),
    "console.clip": ("录像", "Clip"),
    "console.after_snapshot": ("复核抓拍", "After (camera recheck)"),
    "console.need_reason": ("请填写原因", "A reason is required"),
    "console.not_ready": ("事件处置模块尚未就绪", "The incident module is not installed yet"),
    "console.out_of_scope": ("超出您的管辖范围", "Outside your scope"),
    # The one-screen console (1600x900): tabs, keys, who holds a case
    "console.tab_verification": ("核实", "Verify"),
    "console.tab_incidents": ("事件", "Incidents"),
    "console.tab_workload": ("工作量", "Workload"),
    "console.tab_grid": ("网格调整", "Grid changes"),
    "console.tab_analysis": ("分析研判", "Analysis"),
    "console.awaiting_verification": ("待核实（{queue}）", "to verify ({queue})"),
    "console.awaiting_dispatch": ("待派遣（{queue}）", "to dispatch ({queue})"),
    "console.reported_at": ("上报时间", "Reported"),
    "console.no_snapshot": ("无抓拍", "no snapshot"),
    "console.ack_all": ("全部确认（{n}）", "Acknowledge all ({n})"),
    "console.acked_all": ("已确认 {n} 条警报", "{n} alarms acknowledged"),
    "console.more_rows": ("+{n} 条未列出（共 {total} 条），请用筛选缩小范围",
                          "+{n} not listed ({total} in all): narrow them with the filters"),
    # A snapshot or photo whose file is gone from the media directory: said, never a broken image
    "media.missing_snapshot": ("抓拍缺失", "Snapshot missing"),
    "media.missing_image": ("图片缺失", "Image missing"),
    # A camera clip is written a few seconds after its situation (the post-roll): absent may mean not yet.
    "media.missing_clip": ("录像尚未生成或已缺失", "Clip not written yet or missing"),
    "media.not_found": ("文件不存在：{name}", "No such file: {name}"),
    "console.false_alarm_note": ("误报", "false alarm"),
    "console.keys": ("快捷键：J/↓ 下一条 · K/↑ 上一条 · Enter/V 核实分拨 · X 误报取消 · 1–5 切换标签",
                     "Keys: J/↓ next · K/↑ previous · Enter/V verify · X false alarm · 1–5 tabs"),
    "console.empty": ("暂无", "none"),
    "console.pick_base": ("在右侧地图上点击要调整的基础网格", "Click the base grid to move on the map"),
    "queue.worker": ("网格员", "worker"),
    "queue.community": ("社区队列", "community queue"),
    "queue.district": ("区队列", "district queue"),
    "queue.verification": ("核实队列", "verification queue"),
    # Analysis and early warning (分析研判)
    "analysis.title": ("分析研判", "Analysis"),
    "analysis.hotspots": ("热点（近 {days} 天，{family}）", "Hot spots (last {days} days, {family})"),
    "analysis.all_families": ("全部类别", "all families"),
    "analysis.family": ("类别", "Family"),
    "analysis.lattice": ("网格单元", "Cells"),
    "analysis.lattice.square200": ("200 米方格", "200 m squares"),
    "analysis.lattice.sub_grid": ("综治网格", "sub-grids"),
    "analysis.emerging": ("时空热点趋势", "Emerging hot spots"),
    "analysis.computed": ("分析于 {at}", "computed {at}"),
    "analysis.no_run": ("暂无分析结果", "No analysis results yet"),
    "analysis.warnings": ("预警", "Early warnings"),
    "analysis.no_warnings": ("暂无预警", "No open warnings"),
    "analysis.redblack": ("红黑榜（按期结案率）", "Red/black ranking (on-time rate)"),
    "analysis.red": ("红榜", "Best"),
    "analysis.black": ("黑榜", "Worst"),
    "analysis.make_case": ("转为案件", "Turn into a case"),
    "analysis.dismiss": ("忽略", "Dismiss"),
    "analysis.case_made": ("预警 {id} 已转为案件 {event}", "Warning {id} became case {event}"),
    "analysis.dismissed": ("预警 {id} 已忽略", "Warning {id} dismissed"),
    "analysis.case_matter": ("立案事项（预警未指明事项时）", "Matter (when the warning names none)"),
    "analysis.case_error": ("无法立案：{why}", "Cannot make a case: {why}"),
    "warning.rising": ("{matter} 上升：本周 {current} 起，基线每周 {expected} 起", "{matter} rising: {current} this week, baseline {expected}/week"),
    "warning.repeat": ("{matter} 重复：{days} 天内 {radius} 米内 {count} 次", "{matter} repeated: {count} times in {days} days within {radius} m"),
    "warning.camera_blind": ("无正常摄像机", "no working camera"),
    "class.hot_99": ("热点 99%", "hot 99%"),
    "class.hot_95": ("热点 95%", "hot 95%"),
    "class.hot_90": ("热点 90%", "hot 90%"),
    "class.cold_90": ("冷点 90%", "cold 90%"),
    "class.cold_95": ("冷点 95%", "cold 95%"),
    "class.cold_99": ("冷点 99%", "cold 99%"),
    "pattern.new_hot": ("新增热点", "new hot spot"),
    "pattern.consecutive_hot": ("连续热点", "consecutive hot spot"),
    "pattern.intensifying_hot": ("加剧热点", "intensifying hot spot"),
    "pattern.persistent_hot": ("持续热点", "persistent hot spot"),
    "pattern.diminishing_hot": ("减弱热点", "diminishing hot spot"),
    "pattern.sporadic_hot": ("零星热点", "sporadic hot spot"),
    "pattern.oscillating_hot": ("振荡热点", "oscillating hot spot"),
    "pattern.historical_hot": ("历史热点", "historical hot spot"),
    "pattern.new_cold": ("新增冷点", "new cold spot"),
    "pattern.consecutive_cold": ("连续冷点", "consecutive cold spot"),
    "pattern.intensifying_cold": ("加剧冷点", "intensifying cold spot"),
    "pattern.persistent_cold": ("持续冷点", "persistent cold spot"),
    "pattern.diminishing_cold": ("减弱冷点", "diminishing cold spot"),
    "pattern.sporadic_cold": ("零星冷点", "sporadic cold spot"),
    "pattern.oscillating_cold": ("振荡冷点", "oscillating cold spot"),
    "pattern.historical_cold": ("历史冷点", "historical cold spot"),
    # Reports
    "reports.title": ("期间指标与红黑榜", "Period indicators and ranking"),
    "reports.from": ("开始日期", "From"),
    "reports.to": ("结束日期", "To"),
    "reports.level": ("层级", "Level"),
    "reports.level.street": ("街道", "street"),
    "reports.level.community": ("社区", "community"),
    "reports.level.sub_grid": ("综治网格", "sub-grid"),
    "reports.level.worker": ("网格员", "grid worker"),
    "reports.csv": ("下载 CSV", "Download CSV"),
    "reports.print": ("打印报告", "Print report"),
    "reports.bad_period": ("日期无效：{why}", "Bad period: {why}"),
    "reports.empty": ("本期无数据", "No data in this period"),
    "reports.period": ("期间 {label}（北京时间）", "Period {label} (CST)"),
    "col.code": ("编码", "Code"),
    "col.name": ("名称", "Name"),
    "col.incidents": ("事件", "Incidents"),
    "col.closed": ("结案", "Closed"),
    "col.due": ("应结", "Due"),
    "col.on_time": ("按时", "On time"),
    "col.on_time_rate": ("按期结案率", "On-time rate"),
    "col.mean_dispatch_min": ("平均分拨（分钟）", "Mean to dispatch (min)"),
    "col.mean_accept_min": ("平均接收（分钟）", "Mean to accept (min)"),
    "col.mean_resolve_min": ("平均处置（分钟）", "Mean to resolve (min)"),
    "col.returned": ("退回", "Returned"),
    "col.escalated": ("升级", "Escalated"),
    "col.rank": ("名次", "Rank"),
    "col.list": ("榜单", "List"),
    "col.cameras": ("摄像机", "Cameras"),
    "col.camera_online_rate": ("摄像机在线率", "Camera online rate"),
    "col.camera_available_rate": ("摄像机可用率", "Camera available rate"),
    "col.day": ("日期", "Day"),
    "col.online_rate": ("在线率", "Online"),
    "col.available_rate": ("可用率（在线+异常）", "Available (online + degraded)"),
    "col.offline_hours": ("离线（小时）", "Offline (hours)"),
    "col.known_share": ("已诊断时长占比", "Diagnosed time"),
    "col.camera_code": ("摄像机", "Camera"),
    "col.camera_name": ("名称", "Name"),
    "col.community_code": ("社区", "Community"),
    "reports.cameras": ("摄像机可用率（按日）", "Camera availability per day"),
    "reports.cameras_note": ("按摄像机时长加权，未诊断时段不计。", "Weighted by camera-time; time with unknown health is left out."),
    "reports.charts": ("图表", "Charts"),
    "reports.chart.cases": ("各街道事件（按任务类别）", "Cases per street by task family"),
    "reports.chart.on_time": ("各街道按期结案率", "On-time closure per street"),
    "reports.chart.cameras": ("各街道摄像机可用率", "Camera availability per street"),
    "reports.chart.target": ("目标", "Target"),
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
    "field.failed": ("发送失败，已从待发送中移除：{why}", "Not sent, removed from the outbox: {why}"),
    "field.offline": ("离线：将在联网后发送", "Offline: will send when the network is back"),
    "field.need_matter": ("请选择事项", "Choose a matter"),
    "field.need_position": ("请提供位置", "A position is needed"),
    "field.return_reason": ("退回原因", "Reason for returning"),
    "field.no_tasks": ("暂无任务", "No tasks"),
    "field.back": ("返回", "Back"),
    "field.task_pos": ("任务位置", "Task"),
    "field.my_pos": ("我的位置", "My position"),
    "field.my_grids": ("我的网格", "My sub-grids"),
    "field.backup_grid": ("备岗网格", "Backup sub-grid"),
    "field.due_in": ("剩余 {left}", "{left} left"),
    "field.overdue_by": ("已超时 {left}", "Overdue by {left}"),
    "field.no_deadline": ("无期限", "No deadline"),
    "field.place": ("位置", "Place"),
    "field.photos": ("照片", "Photos"),
    "field.nearby_title": ("附近已有同类未办结事件，是同一件事吗？", "Open cases of this matter nearby: is it the same?"),
    "field.nearby_same": ("是同一件事", "The same"),
    "field.nearby_different": ("不是，另报新事件", "A different one"),
    "field.nearby_cancel": ("暂不提交", "Not now"),
    "field.nearby_item": ("{m} 米 · {n} 次上报 · {status}", "{m} m · {n} reports · {status}"),
    "field.merged_hint": ("将并入该事件（照片和说明一并加入）", "It joins that case (photo and note included)"),
    "api.bad_not_duplicate_of": ("不是同一事件的列表无效", "The list of different cases is not valid"),
    # Cameras
    "cameras.title": ("摄像机与视频质量诊断", "Cameras and video quality"),
    "cameras.code": ("编号", "Code"),
    "cameras.name": ("名称", "Name"),
    "cameras.health": ("状态", "Health"),
    "cameras.health_at": ("检测时间", "Checked"),
    "cameras.snapshot": ("最新抓拍", "Latest snapshot"),
    "cameras.no_snapshot": ("暂无抓拍", "No snapshot yet"),
    "cameras.zones": ("布控区域", "Zones"),
    "cameras.zone_tip": ("{code} 布控区域：{zone}", "{code} zone: {zone}"),
    "cameras.zone_save": ("保存区域与计数线", "Save zones and lines"),
    "cameras.zone_rule": ("规则", "Rule"),
    "cameras.zone_saved": ("区域已保存", "Zones saved"),
    "cameras.zone_bad": ("区域格式错误：{why}", "Bad zones: {why}"),
    "cameras.situations": ("近期事件", "Recent situations"),
    "cameras.cases": ("运维工单", "Maintenance cases"),
    "cameras.select": ("请选择摄像机", "Select a camera"),
    # The zone editor (dashboard/pages/cameras/, assets/gridwatch-cameras.js)
    "cameras.zone_pick": ("选择区域", "Zone"),
    "cameras.zone_name": ("区域名称", "Zone name"),
    "cameras.zone_new": ("绘制新区域", "Draw a new zone"),
    "cameras.zone_delete": ("删除区域", "Delete zone"),
    "cameras.vertex_delete": ("删除顶点", "Delete vertex"),
    "cameras.zone_reset": ("放弃修改", "Discard changes"),
    "cameras.zone_default": ("区域{n}", "zone {n}"),
    "cameras.zone_unnamed": ("（未命名）", "(unnamed)"),
    "cameras.zone_none": ("暂无区域，点击“绘制新区域”开始", "No zones yet: press “Draw a new zone”"),
    "cameras.zone_gone": ("摄像机不存在，未保存", "No such camera; nothing saved"),
    "cameras.rules": ("规则与参数", "Rules and parameters"),
    "cameras.rule_seconds": ("持续秒数", "Seconds"),
    "cameras.rule_people": ("最少人数", "Min. people"),
    "cameras.rule_auto": ("自动派遣", "Dispatch at once"),
    "cameras.rule_matter": ("事项编码", "Matter code"),
    "cameras.hint_edit": ("拖动顶点调整形状；拖动边上的小圆点增加顶点；右键单击顶点（或选中后按“删除顶点”）删除顶点",
                          "Drag a vertex to move it; drag an edge's small dot to add a vertex; right-click a vertex "
                          "(or select it and press “Delete vertex”) to remove it"),
    "cameras.hint_draw": ("在画面上单击添加顶点；单击第一个顶点或按回车完成，Esc 取消",
                          "Click the picture to add vertices; click the first vertex or press Enter to finish, Esc to cancel"),
    "cameras.hint_min3": ("区域至少需要 3 个顶点", "A zone needs at least 3 vertices"),
    "cameras.hint_cross": ("区域“{zone}”的边相互交叉，保存时将被拒绝", "Zone “{zone}” crosses itself; saving will be refused"),
    "cameras.json_view": ("JSON（高级）", "JSON (advanced)"),
    "cameras.json_apply": ("应用 JSON", "Apply JSON"),
    "cameras.json_bad": ("JSON 格式错误：第 {line} 行第 {col} 列", "Not JSON: line {line} column {col}"),
    "cameras.json_unapplied": ("JSON 视图有未应用的修改，请先点击“应用 JSON”或放弃修改",
                               "The JSON view has changes not applied: press “Apply JSON” or discard them"),
    # Save refusals (dashboard/pages/cameras/zone_check.py): "<where>: <what>"
    "cameras.err_at": ("{where}：{what}", "{where}: {what}"),
    "cameras.err_zone": ("区域“{zone}”", "zone “{zone}”"),
    "cameras.err_rule": ("区域“{zone}”的“{rule}”规则", "the {rule} rule of zone “{zone}”"),
    "cameras.err_vertex": ("区域“{zone}”第 {n} 个顶点", "vertex {n} of zone “{zone}”"),
    "cameras.err_not_list": ("区域须为列表，每个区域是一个对象", "zones must be a list of objects"),
    "cameras.err_view_shape": ("JSON 视图须为 {\"zones\": [...], \"lines\": [...]}（区域和计数线各为对象列表）",
                               "the JSON view must be {\"zones\": [...], \"lines\": [...]} (lists of objects)"),
    "cameras.err_names_twice": ("区域名称重复：{names}", "zone names must be unique; repeated: {names}"),
    "cameras.err_self_cross": ("多边形的边相互交叉或面积为零，请调整顶点", "the polygon crosses itself or has no area; move its vertices"),
    "cameras.err_rule_twice": ("同一种规则只能设置一次", "one rule per kind"),
    "cameras.err_people_crowd": ("只有人群聚集规则可设置最少人数", "only crowd rules take a minimum number of people"),
    "cameras.err_min": ("{field}不能小于 {limit}", "{field} must be at least {limit}"),
    "cameras.err_max": ("{field}不能大于 {limit}", "{field} must be at most {limit}"),
    "cameras.err_above": ("{field}须大于 {limit}", "{field} must be more than {limit}"),
    "cameras.err_below": ("{field}须小于 {limit}", "{field} must be less than {limit}"),
    "cameras.err_number": ("{field}须为数字", "{field} must be a number"),
    "cameras.err_few_vertices": ("至少需要 {n} 个顶点", "needs at least {n} vertices"),
    "cameras.err_many_vertices": ("最多 {n} 个顶点", "at most {n} vertices"),
    "cameras.err_empty": ("{field}不能为空", "{field} must not be empty"),
    "cameras.err_long": ("{field}最长 {n} 个字符", "{field} is at most {n} characters"),
    "cameras.err_choice": ("{field}不是可选的值", "{field} is not one of the allowed values"),
    "cameras.err_unknown": ("未知字段 {field}", "unknown key {field}"),
    "cameras.err_missing": ("缺少{field}", "{field} is missing"),
    "cameras.field.name": ("名称", "the name"),
    "cameras.field.polygon": ("多边形", "the polygon"),
    "cameras.field.vertex": ("坐标", "the coordinate"),
    "cameras.field.rules": ("规则", "the rules"),
    "cameras.field.rule": ("规则", "the rule"),
    "cameras.field.zone": ("区域", "the zone"),
    "cameras.field.kind": ("规则类型", "the rule kind"),
    "cameras.field.seconds": ("持续秒数", "the seconds"),
    "cameras.field.min_people": ("最少人数", "the minimum of people"),
    "cameras.field.matter": ("事项编码", "the matter code"),
    "cameras.field.dispatch": ("派遣方式", "the dispatch mode"),
    # Counting lines and counts (issue 14; dashboard/pages/cameras/counts.py, lines.py, line_check.py)
    "cameras.counts": ("计数（近 24 小时，每 5 分钟）", "Counts (last 24 h, per 5 minutes)"),
    "cameras.counts_crossings": ("过线次数", "Line crossings"),
    "cameras.counts_peaks": ("区域峰值数量", "Zone peaks"),
    "cameras.counts_none": ("近 24 小时暂无计数（需设置区域或计数线）",
                            "No counts in the last 24 h (the camera needs zones or counting lines)"),
    "cameras.counts_in": ("进", "in"),
    "cameras.counts_out": ("出", "out"),
    "count_class.person": ("行人", "people"),
    "count_class.vehicle": ("车辆", "vehicles"),
    "cameras.lines": ("计数线", "Counting lines"),
    "cameras.line_pick": ("选择计数线", "Line"),
    "cameras.line_new": ("绘制计数线", "Draw a counting line"),
    "cameras.line_delete": ("删除计数线", "Delete line"),
    "cameras.line_side": ("重选进入侧", "Pick the in side"),
    "cameras.line_name": ("计数线名称", "Line name"),
    "cameras.line_classes": ("计数对象", "Counts"),
    "cameras.line_none": ("暂无计数线，点击“绘制计数线”开始", "No counting lines yet: press “Draw a counting line”"),
    "cameras.line_default": ("计数线{n}", "line {n}"),
    "cameras.line_in": ("进", "IN"),
    "cameras.hint_line_draw": ("在画面上单击添加点；至少两个点后按回车或再次单击最后一个点完成，Esc 取消",
                               "Click to add points; with two or more, press Enter or click the last point again; Esc cancels"),
    "cameras.hint_line_side": ("单击计数线的一侧，作为“进”的一侧", "Click on the side of the line that counts as “in”"),
    "cameras.hint_line_min2": ("计数线至少需要 2 个点", "A line needs at least 2 points"),
    "cameras.line_bad": ("计数线格式错误：{why}", "Bad counting lines: {why}"),
    "cameras.err_line": ("计数线“{line}”", "line “{line}”"),
    "cameras.err_line_point": ("计数线“{line}”第 {n} 个点", "point {n} of line “{line}”"),
    "cameras.err_line_simple": ("计数线自相交或长度为零", "the line crosses itself or has no length"),
    "cameras.err_line_side": ("“进”一侧的点不能落在线上", "the in-side point must lie off the line"),
    "cameras.err_line_names_twice": ("计数线名称重复：{names}", "line names must be unique; repeated: {names}"),
    "cameras.err_line_classes": ("至少选择一种计数对象（行人或车辆）", "count at least one class (people or vehicles)"),
    "cameras.err_lines_many": ("最多 {n} 条计数线", "at most {n} counting lines"),
    "cameras.err_lines_not_list": ("计数线须为列表，每条是一个对象", "lines must be a list of objects"),
    "cameras.field.points": ("端点", "the points"),
    "cameras.field.in_side": ("“进”一侧", "the in side"),
    "cameras.field.classes": ("计数对象", "the counted classes"),
    "cameras.field.line": ("计数线", "the line"),
    # A camera's live view (dashboard/camera_live.py, assets/gridwatch-camera-live.js)
    "live.open": ("实时画面", "Live"),
    "live.title": ("实时画面 · {code}", "Live view · {code}"),
    "live.close": ("关闭", "Close"),
    "live.connecting": ("正在等待摄像机画面…", "Waiting for the camera's picture…"),
    "live.age": ("画面 {age} 秒前", "Picture {age} s old"),
    "live.stale": ("画面已过时：{age} 秒前（超过 2 秒）", "Stale picture: {age} s old (over 2 s)"),
    "live.no_worker": ("没有摄像机处理进程应答，暂无实时画面", "No camera worker answers: no live picture"),
    "live.ended": ("实时画面已结束", "The live view ended"),
    "live.retry": ("重新打开", "Open again"),
    "live.refused": ("无权查看此摄像机", "You may not watch this camera"),
    "live.session": ("会话已结束，请重新登录", "Your session ended; log in again"),
    "live.not_found": ("摄像机不存在或不在您的辖区", "No such camera in your area"),
    "live.too_many": ("打开的实时画面过多，请先关闭一个", "Too many live views open; close one first"),
    # Answers of the tablet API and the request guards
    "api.no_task": ("没有这个任务", "no such task"),
    "api.no_incident": ("没有这个事件", "no such incident"),
    "api.no_worker": ("没有这个网格员", "no such worker"),
    "api.bad_event_id": ("event_id 必须是 UUID", "event_id must be a UUID"),
    "api.bad_action": ("需要 event_id、incident_id 和有效的操作", "event_id, incident_id and a field action are required"),
    "api.bad_photo": ("照片必须是 JPEG 或 PNG 图像", "the photo must be a JPEG or PNG image"),
    "api.photo_pixels": ("照片为 {width}x{height} 像素，超过 {limit} 百万像素的上限",
                         "the photo is {width}x{height} pixels, more than the limit of {limit} megapixels"),
    "api.photo_bomb": ("照片像素远超 {limit} 百万像素的上限", "the photo has far more pixels than the limit of {limit} megapixels"),
    "api.photo_trailing": ("照片图像结束后还有其他数据，不予接收", "the photo carries other data after the image's end"),
    "api.nul": ("字段 {field} 含有空字符（NUL），不予接收", "{field} must not contain NUL bytes"),
    "api.not_found": ("没有这个地址：{path}", "no such resource: {path}"),
    "api.method": ("{path} 不接受 {method}，请用 {allowed}", "{method} is not allowed on {path}; use {allowed}"),
    "api.too_large": ("请求内容过大", "the request body is too large"),
    "api.too_long": ("{field} 超过 {max} 个字符", "{field} is longer than {max} characters"),
    "api.invalid_report": ("报告无效：{reason}", "the report is not valid: {reason}"),
    "api.http_error": ("请求被拒绝（{status} {name}）", "refused ({status} {name})"),
    "api.csrf": ("请求校验失败，请刷新页面", "CSRF check failed; reload the page"),
    "api.login_required": ("请先登录", "login required"),
    "api.session_ended": ("会话已失效（已退出、超时或账号已停用），请重新登录",
                          "your session is no longer valid (logged out, timed out or account disabled); log in again"),
    "api.bad_number": ("{field} 须为半角数字（0-9）写成的数，收到 {value}",
                       "{field} must be a number written in ASCII digits (0-9), got {value}"),
    "api.bad_id": ("{field} 须为半角字符写成的 UUID，收到 {value}", "{field} must be a UUID in ASCII characters, got {value}"),
    # Camera rule kinds (video/config.py)
    "rule.intrusion": ("闯入禁区", "intrusion"),
    "rule.loitering": ("徘徊", "loitering"),
    "rule.crowd": ("人员聚集", "crowd"),
    "rule.object_left": ("物品遗留", "object left"),
    "rule.vehicle_stopped": ("车辆违停", "vehicle stopped"),
    # Errors shown from the server
    "error.transition": ("操作被拒绝：{why}", "Refused: {why}"),
    "error.generic": ("操作失败", "The operation failed"),
    # The frame of an incident's refusal (REFUSALS below give the reason) and what the role may do instead.
    "refusal.frame": ("事件当前为“{status}”，不能“{action}”：{reason}", "cannot {action} an incident that is {status}: {reason}"),
    "refusal.allowed": ("。{role}在此状态下可以：{allowed}（所有角色可做：{anyone}）",
                        "; from here the {role} role may: {allowed} (any role: {anyone})"),
    "refusal.final": ("。“{status}”为终态，不能再进行任何操作", "; {status} is final: nothing is allowed from it"),
    "refusal.none": ("无", "none"),
    "refusal.nothing": ("无", "nothing"),
}

# Refusal codes of grid/refusals.py (the English for logs is written where each is raised). Parameters
# naming statuses, actions, roles... are translated by _PARAM_KEYS before they are put in.
REFUSALS: dict[str, tuple[str, str]] = {
    "refused": ("该操作不被允许", "{detail}"),
    "transition.unknown_action": ("没有这个操作", "there is no such action"),
    "transition.no_such_action": ("没有“{action}”这个操作，可用的操作有：{actions}",
                                  "there is no action {action}; actions are: {actions}"),
    "transition.unknown_role": ("未知角色“{role}”，角色有：{roles}", "unknown role {role}; roles are: {roles}"),
    "transition.wrong_status": ("只能在{from_statuses}状态下进行", "only allowed from {from_statuses}"),
    "transition.wrong_role": ("{role}无权进行此操作", "the {role} role may not do it"),
    "transition.not_owner": ("{role}只能处理自己的任务", "the {role} role may only act on own tasks"),
    "transition.maintenance_only": ("运维人员只能处理设施运维类事件（此事件类别：{family}）",
                                    "maintenance may only act on maintenance cases, not {family}"),
    "transition.needs_note": ("需要在说明中填写原因", "a reason (note) is required"),
    "transition.out_of_scope": ("事件位于 {where}，超出您的管辖范围 {scope}", "it lies in {where}, outside your scope {scope}"),
    "transition.bad_media": ("附件引用无效：{ref}", "the media reference {ref} is not acceptable"),
    "transition.level_moved": ("督办级别已是{level}级，不是{expected}级", "the level is {level}, not {expected}"),
    "transition.top_of_ladder": ("已在{level}级，是该事项督办的最高级（{escalation}）",
                                 "already at {level}, the top of its matter's ladder ({escalation})"),
    "transition.no_clock": ("该事件没有处置期限", "the case has no deadline clock"),
    "transition.not_due": ("尚未到期", "not due yet"),
    "transition.not_on_verification": ("只有核实队列中的事件才能核实分拨，此事件在{queue}：请改用分拨",
                                       "verify is for the verification queue; this case is on the {queue}: use dispatch"),
    "transition.reset_needs_note": ("重置处置期限需要在说明中填写原因", "resetting the deadline clock needs a reason (note)"),
    "transition.no_active_worker": ("没有在职网格员 {worker}", "no active grid worker {worker}"),
    "transition.worker_out_of_scope": ("网格员 {worker} 属于社区 {community}，不在管辖范围 {scope} 内",
                                       "grid worker {worker} works for community {community}, outside the scope {scope}"),
    "transition.worker_other_community": ("网格员 {worker} 属于社区 {community}，事件位于社区 {incident_community}",
                                          "grid worker {worker} works for community {community}; the case lies in "
                                          "community {incident_community}"),
    "transition.queue_needs_worker": ("请指定网格员：{queue}不能作为分拨目标",
                                      "the {queue} cannot be a dispatch target without a worker"),
    "transition.no_community": ("该事件不在任何社区内，不能分拨到社区队列", "the case lies in no community"),
    "transition.outside_district": ("事件位于本区以外，请指定网格员或队列",
                                    "the case lies outside the district: name a target worker or queue"),
    "transition.no_route": ("无法自动确定去向（{queue}），请指定网格员或队列",
                            "it cannot be routed automatically ({queue}): name a target worker or queue"),
    "operation.unknown_role": ("{user}：未知角色“{role}”", "{user}: unknown role {role}"),
    "operation.system_role": ("{user}：账号不能使用系统角色", "{user}: an account cannot claim the system role"),
    "operation.not_operator": ("{user} 的角色是{role}：只有{roles}可以进行此操作", "{user} is a {role}: only {roles} may do this"),
    "operation.out_of_scope": ("{user} 的管辖范围是 {scope}：不能在范围以外的 {area} 操作",
                               "{user} supervises {scope}: may not act in {area}, outside that scope"),
    "operation.already_in_sub_grid": ("基础网格 {base_grid} 已在综治网格 {sub_grid} 中",
                                      "base grid {base_grid} is already in sub-grid {sub_grid}"),
    "operation.crosses_community": (
        "基础网格 {base_grid} 属于社区 {community}，综治网格 {sub_grid} 属于社区 {sub_grid_community}：基础网格不能跨社区调整",
        "base grid {base_grid} lies in community {community}; sub-grid {sub_grid} belongs to community "
        "{sub_grid_community}: a base grid never crosses communities"),
    "operation.last_base_grid": ("基础网格 {base_grid} 是综治网格 {sub_grid} 的最后一个基础网格，移走后该综治网格将为空",
                                 "base grid {base_grid} is the last base grid of sub-grid {sub_grid}: moving it "
                                 "would leave it empty"),
    "operation.bad_assignment_role": ("岗位只能是主责或备岗，不能是“{assignment_role}”",
                                      "the assignment role must be primary or backup, not {assignment_role}"),
    "operation.worker_retired": ("网格员 {worker} 已停用（离职），不能分配",
                                 "grid worker {worker} is retired (inactive) and cannot be assigned"),
    "operation.worker_other_community": ("网格员 {worker} 属于社区 {community}，综治网格 {sub_grid} 属于社区 {sub_grid_community}",
                                         "grid worker {worker} works for community {community}; sub-grid {sub_grid} "
                                         "belongs to community {sub_grid_community}"),
    "operation.already_assigned": ("网格员 {worker} 已是综治网格 {sub_grid} 的{assignment_role}",
                                   "grid worker {worker} is already the {assignment_role} of sub-grid {sub_grid}"),
    "operation.holds_other_role": ("网格员 {worker} 是综治网格 {sub_grid} 的{other_role}：请先另行指定{other_role}（一人不能兼任）",
                                   "grid worker {worker} is the {other_role} of sub-grid {sub_grid}; assign another "
                                   "{other_role} first (one person cannot be both)"),
    "operation.no_user": ("没有用户 {user}", "no user {user}"),
    "operation.user_disabled": ("用户 {user} 已停用", "user {user} is disabled"),
    "operation.no_sub_grid": ("没有综治网格 {sub_grid}", "no sub-grid {sub_grid}"),
    "operation.no_base_grid": ("没有基础网格 {base_grid}", "no base grid {base_grid}"),
    "operation.no_worker": ("没有网格员 {worker}", "no grid worker {worker}"),
    "operation.reason_required": ("请填写原因（将写入审计日志）", "a reason is required (it is written to the audit log)"),
    "operation.grid_rules": ("网格规则不允许此调整（涉及 {codes}）", "the grid rules refused it: {detail}"),
    "case.no_warning": ("没有编号为 {warning} 的预警", "no early warning {warning}"),
    "case.not_open": ("预警 {warning} 已处理，不能再立案", "early warning {warning} is no longer open"),
    "case.no_matter": ("预警 {warning} 没有对应的事项，请先选择事项", "early warning {warning} names no matter: choose one"),
    # Matter codes are the matters list's own identifiers; the Chinese sentence need not repeat them.
    "case.inactive_matter": ("所选事项不存在或已停用", "{matter} is not an active matter"),
}

# Refusal parameters shown through the catalogue (see grid/refusals.py); lists are translated item by item.
_PARAM_KEYS = {
    "action": "action.{}", "allowed": "action.{}", "anyone": "action.{}", "actions": "action.{}",
    "status": "status.{}", "from_statuses": "status.{}", "role": "role.{}", "roles": "role.{}",
    "family": "family.{}", "level": "level.{}", "expected": "level.{}", "escalation": "level.{}",
    "queue": "queue.{}", "assignment_role": "console.role_{}", "other_role": "console.role_{}",
}
_LIST_SEPARATOR = {"zh": "、", "en": ", "}

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
    "open_incidents": ("有 {count} 个未结事件指向它，不能删除或清空；请先结案或撤销",
                       "cannot be removed or emptied: {count} open incident(s) point at it; close or cancel them first"),
    "has_children": ("仍有 {count} 个下级 {child_level} 网格（{children}），不能删除；请先删除它们"
                     "（import --level {child_level} --replace）或在文件中保留它",
                     "cannot be removed: {count} {child_level} grid(s) still belong to it ({children}); remove them "
                     "first (import --level {child_level} --replace) or keep it in the file"),
    "has_workers": ("仍有 {count} 名网格员属于该社区（{workers}），不能删除；请先将他们调到其他社区或在文件中保留它",
                    "cannot be removed: {count} grid worker(s) belong to this community ({workers}); move them to "
                    "another community first or keep it in the file"),
    "unreadable": ("无法读取：{reason}", "cannot be read: {reason}"),
    "several_layers": ("文件包含多个图层（{layers}），请用 --layer 指定一个", "holds several layers ({layers}): choose one with --layer"),
    "no_such_layer": ("没有图层 {layer!r}（现有图层：{layers}）", "has no layer {layer!r} (its layers: {layers})"),
    "name_en_unsupported": ("{level} 层级没有英文名称字段，请去掉 --name-en-field",
                            "{level} grids have no English name column: leave out --name-en-field"),
    "gcj02_suspected": ("坐标疑似 GCJ-02（国内网络地图坐标）却按 {crs} 读取：要素与库中网格相差约 {offset_m:.0f} 米，"
                        "正是 GCJ-02 在此处的偏移；请加 --crs gcj02 导入",
                        "coordinates look like GCJ-02 (Chinese web-map coordinates) read as {crs}: the features sit "
                        "about {offset_m:.0f} m from where the stored grids put them, the shift GCJ-02 makes here; "
                        "import with --crs gcj02"),
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


def bilingual(key: str, unit: str = "") -> str:
    """The printed form of `key`, 'zh (en)' with an optional unit after the Chinese: paper is read in both."""
    zh, en = CATALOGUE[key]
    # The English is a gloss inside a Chinese line: lower case ("按期结案率 (on-time rate)"), and its own
    # parenthesis becomes a comma so the gloss stays one pair ("(mean to dispatch, min)").
    gloss = re.sub(r"\s*\((.*)\)$", r", \1", en[:1].lower() + en[1:])
    return f"{zh}{' ' + unit if unit else ''} ({gloss})"


def violation(code: str, params: dict | None = None, default: str | None = None, lang: str = "zh") -> str:
    """A grid-rule violation code as a sentence in `lang`; grid/'s default message when unknown."""
    pair = VIOLATIONS.get(code)
    if pair is None:
        return default or code
    try:
        return (pair[1] if lang == "en" else pair[0]).format(**(params or {}))
    except (KeyError, IndexError):
        return default or code


def _shown_one(pattern: str | None, value, lang: str) -> str:
    if value is None:
        return t("refusal.none", lang)
    key = pattern.format(value) if pattern else None
    return t(key, lang) if key in CATALOGUE else str(value)


def _shown(name: str, value, lang: str) -> str:
    """One refusal parameter as text in `lang`: enum values through the catalogue, lists joined."""
    pattern = _PARAM_KEYS.get(name)
    if isinstance(value, (list, tuple)):
        items = [_shown_one(pattern, v, lang) for v in value]
        return _LIST_SEPARATOR.get(lang, "、").join(items) if items else t("refusal.nothing", lang)
    return _shown_one(pattern, value, lang)


def refusal(code: str, params: dict | None = None, lang: str = "zh", default: str | None = None) -> str:
    """A refusal (grid.refusals code and params) as a sentence in `lang`; `default` (or the code) when unknown."""
    pair = REFUSALS.get(str(code))
    if pair is None:
        return default or str(code)
    raw = dict(params or {})
    shown = {name: _shown(name, value, lang) for name, value in raw.items()}
    try:
        text = (pair[1] if lang == "en" else pair[0]).format(**shown)
        # An incident's refusal names its status and the action; a refusal of the table, what is left to do.
        if "status" in raw and "action" in raw:
            text = t("refusal.frame", lang, **{**shown, "reason": text})
        if "anyone" in raw:
            text += t("refusal.final" if raw.get("final") else "refusal.allowed", lang, **shown)
    except (KeyError, IndexError, ValueError):
        logger.warning("refusal %s does not format with %s", code, sorted(raw))
        return default or str(code)
    return text


def refused(exc: Exception, lang: str) -> str:
    """What the dashboard shows for a refusal (grid.refusals.Refusal): 'Refused: ...' wholly in `lang`."""
    why = refusal(getattr(exc, "code", ""), getattr(exc, "params", None), lang, default=str(exc))
    return t("error.transition", lang, why=why)


def label(prefix: str, value, lang: str) -> str:
    """A value of an enum-like column (status, family, ...) in `lang`, the raw value when unknown."""
    key = f"{prefix}.{value}"
    return t(key, lang) if key in CATALOGUE else str(value)


def client_strings(lang: str) -> dict[str, str]:
    """The subset the browser scripts need (wall status line, field queue), for one language."""
    keys = ("wall.live_ok", "wall.stale", "wall.disconnected", "field.pending", "field.sent", "field.offline",
            "field.no_gps", "field.outside", "field.photo_large", "field.need_matter", "field.need_position",
            "field.new_task", "field.return_reason", "field.failed", "wall.alarm", "wall.no_alarms",
            "field.due_in", "field.overdue_by", "field.no_deadline", "field.nearby_item", "field.merged_hint",
            "media.missing_image", "media.missing_clip", "live.title", "live.close", "live.connecting", "live.age", "live.stale",
            "live.no_worker", "live.ended", "live.retry", "live.refused", "live.session", "live.not_found",
            "live.too_many")
    return {k: t(k, lang) for k in keys}

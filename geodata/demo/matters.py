"""The demo's grid matters list (网格事项清单); which matter each camera rule raises is grid/camera_matters.py's."""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("crime", "dispute", "hazard", "maintenance")

_FULL = ("community", "street", "district")
_LOCAL = ("community", "street")
_CENTER = ("district",)


@dataclass(frozen=True)
class Matter:
    """One item of the matters list, plus how often and from where the demo reports it."""

    code: str
    name: str
    name_en: str
    family: str
    priority: int
    deadline_hours: float
    escalation: tuple[str, ...]
    # Demo only: relative frequency among all incidents, and whether cameras raise it.
    weight: float
    camera: bool = False


MATTERS: tuple[Matter, ...] = (
    # 防控违法犯罪
    Matter("crime_intrusion", "闯入禁区", "Intrusion into a restricted zone", "crime", 1, 2, _FULL, 5, True),
    Matter("crime_crowd", "人员异常聚集", "Crowd gathering", "crime", 1, 1, _FULL, 3, True),
    Matter("crime_loitering", "可疑人员徘徊", "Suspicious loitering", "crime", 2, 4, _FULL, 6, True),
    Matter("crime_theft", "盗窃线索", "Theft", "crime", 2, 24, _FULL, 7),
    Matter("crime_fraud", "电信诈骗线索", "Telecom fraud lead", "crime", 2, 24, _FULL, 3),
    Matter("crime_gambling", "聚众赌博线索", "Illegal gambling", "crime", 2, 24, _FULL, 2),
    Matter("crime_public_order", "扰乱公共秩序", "Disturbing public order", "crime", 2, 8, _FULL, 4),
    # 化解矛盾纠纷
    Matter("dispute_neighbour", "邻里纠纷", "Neighbour dispute", "dispute", 3, 72, _LOCAL, 8),
    Matter("dispute_labour", "劳资纠纷", "Wage and labour dispute", "dispute", 2, 48, _FULL, 5),
    Matter("dispute_property", "物业纠纷", "Property management dispute", "dispute", 3, 72, _LOCAL, 5),
    Matter("dispute_family", "婚恋家庭纠纷", "Family dispute", "dispute", 2, 48, _LOCAL, 3),
    Matter("dispute_tenancy", "房屋租赁纠纷", "Tenancy dispute", "dispute", 3, 72, _LOCAL, 4),
    Matter("dispute_consumer", "消费纠纷", "Consumer dispute", "dispute", 3, 72, _LOCAL, 2),
    # 排除公共安全隐患
    Matter("hazard_object_left", "物品遗留或乱堆放", "Object left or dumped", "hazard", 2, 8, _LOCAL, 6, True),
    Matter("hazard_vehicle_stopped", "车辆违停占道", "Vehicle stopped where it must not", "hazard", 3, 4, _LOCAL, 7, True),
    Matter("hazard_fire_exit", "消防通道堵塞", "Blocked fire exit", "hazard", 2, 24, _FULL, 5),
    Matter("hazard_ebike_charging", "电动自行车违规充电", "Unsafe e-bike charging", "hazard", 2, 24, _FULL, 5),
    Matter("hazard_gas", "燃气安全隐患", "Gas safety hazard", "hazard", 1, 4, _FULL, 2),
    Matter("hazard_building", "房屋安全隐患", "Unsafe building", "hazard", 2, 24, _FULL, 2),
    Matter("hazard_road", "道路塌陷或井盖缺失", "Road collapse or missing manhole cover", "hazard", 1, 8, _FULL, 2),
    Matter("hazard_flooding", "内涝积水", "Waterlogging", "hazard", 1, 4, _FULL, 1),
    Matter("hazard_illegal_building", "违法建设", "Illegal construction", "hazard", 3, 120, _LOCAL, 2),
    # 设备设施 (camera faults from video quality diagnosis, facilities reported by people)
    Matter("maint_camera_offline", "摄像机离线", "Camera offline", "maintenance", 2, 24, _CENTER, 2.4, True),
    Matter("maint_camera_frozen", "画面冻结", "Camera picture frozen", "maintenance", 2, 24, _CENTER, 0.8, True),
    Matter("maint_camera_covered", "镜头遮挡", "Camera lens covered", "maintenance", 1, 8, _CENTER, 0.6, True),
    Matter("maint_camera_blurred", "画面模糊", "Camera picture blurred", "maintenance", 3, 48, _CENTER, 1.0, True),
    Matter("maint_camera_moved", "摄像机移位", "Camera moved", "maintenance", 2, 24, _CENTER, 0.6, True),
    Matter("maint_facility", "公共设施损坏", "Damaged public facility", "maintenance", 3, 72, _CENTER, 2.6),
)

BY_CODE: dict[str, Matter] = {m.code: m for m in MATTERS}


def matter_rows() -> list[tuple]:
    """Rows for the matter table: code, name, name_en, family, priority, deadline_hours, escalation."""
    return [(m.code, m.name, m.name_en, m.family, m.priority, m.deadline_hours, list(m.escalation))
            for m in MATTERS]

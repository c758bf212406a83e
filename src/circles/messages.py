"""Every word and sentence a planner reads, in Chinese or English, in one place: labels of
value ids (``label``), map and table words (``tr``) and sentences of notes, warnings and
terminal lines (``say``, in the current run's language: ``with language("en"): ...``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_LANG: ContextVar[str] = ContextVar("circles_lang", default="zh")

# key -> (Chinese, English); {name} fields are filled by ``say``
CATALOGUE: dict[str, tuple[str, str]] = {
    # notes of rule rows (gaps.csv 说明)
    "no_residents": ("单元内无居民", "no residents"),
    "no_facility": (
        "研究范围内没有该类设施：属数据缺失，不是实测缺口",
        "no facility of this category in the study area: missing data, not a measured gap",
    ),
    "weighted_by": ("按{who}计", "weighted by {who}"),
    "weighted_by_all": (
        "按全部居民计：社区数据中没有{who}人数",
        "weighted by all residents: no counts of {who} in the communities",
    ),
    "who_elderly": ("60岁以上老人", "residents aged 60+"),
    "who_children": ("儿童", "children"),
    "boundaries_missing": (
        "未提供{level}边界（--boundaries，级别为{level}）",
        "{level_en} boundaries not given (--boundaries with level {level})",
    ),
    "needs_communities": (
        "需提供规划部门的社区边界（--communities）：OSM居住小区不是社区",
        "needs the planner's community (社区) boundaries (--communities): OSM residential "
        "compounds (小区) are not 社区",
    ),
    "no_supply_facility": ("单元内没有该类设施", "no facility for this category in the unit"),
    "no_supply_value": (
        "单元内该类设施均无{attribute}数据",
        "no value of {attribute} for this category in the unit",
    ),
    "floor_area_hint": (
        "：建筑面积只取自规划部门设施文件（建筑面积列），不取自OSM",
        ": floor area comes only from the planner's facility file (建筑面积 column), never from "
        "OSM",
    ),
    "no_households": (
        "单元内无户数：请在社区文件（--communities）中提供户数列",
        "no households in the unit: give a households column (户数) in the communities file "
        "(--communities)",
    ),
    "no_denominator": ("单元内无居民", "no residents in the unit"),
    "lack_attribute": (
        "{n}处设施中有{missing}处缺少{attribute}",
        "{missing} of {n} facilities lack {attribute}",
    ),
    "osm_uncounted": (
        "{n}处OSM设施不在规划部门名录中：无建筑面积，未计入",
        "{n} OSM facilities not in the planner's list: no floor area, not counted",
    ),
    "indicative_population": (
        "人口为估算且未校准：结果仅供参考（可提供 --population 或官方人口）",
        "population estimated, not calibrated: indicative (give --population or official "
        "populations)",
    ),
    "supply_in_part": (
        "仅部分设施有数据：数值为下限，不给出缺口",
        "supply known only in part: the value is a lower bound, no shortfall given",
    ),
    "no_units": (
        "没有{level}单元（--boundaries，级别为{level}）",
        "no {level_en} units (--boundaries with level {level})",
    ),
    "rule_no_data": ("规则 {rule} 无数据", "rule {rule} has no data"),
    "attr_capacity": ("规模（托位/床位）", "'capacity'"),
    "attr_area_m2": ("面积", "'area_m2'"),
    "attr_floor_area_m2": ("建筑面积", "'floor_area_m2'"),
    "attr_count": ("数量", "'count'"),
    "list_sep": ("；", "; "),
    # warnings of a run (terminal, summary.json, gaps.xlsx 警告)
    "partly_outside": (
        "研究范围只有{share:.0%}位于数据文件 {file} 内；结果只覆盖这一部分。",
        "only {share:.0%} of the study area lies inside the extract {file}; results cover that "
        "part only.",
    ),
    "extract_too_small": (
        "数据文件太小，无法在边缘留出{buffer:.0f}米的缓冲带；边缘附近的居民可能漏算范围外的设施",
        "the extract is too small to leave out a {buffer:.0f} m band at its edge; residents near "
        "the edge may miss facilities beyond it",
    ),
    "edge_units": (
        "{n}个居住小区位于数据文件边缘{buffer:.0f}米以内，未评估（边缘（未评估））：文件范围外的设施"
        "未知。可用 --area 在文件范围内选定研究范围。",
        "{n} residential compounds within {buffer:.0f} m of the extract's edge are not "
        "evaluated (边缘（未评估）): facilities beyond the extract are unknown. Give --area to "
        "choose the study area inside the extract.",
    ),
    "far_homes": (
        "{n}个居民点距步行路网超过{far:.0f}米；其步行距离包含这段直线连接",
        "{n} demand points are more than {far:.0f} m from the walking network; their walks "
        "include that straight connector",
    ),
    "network_pieces": (
        "步行路网有{pieces}个与主网不相连的部分（{nodes}个节点中的{other}个）；它们保留在输出中，"
        "但居民点和设施只连接主网",
        "the walking network has {pieces} piece(s) disconnected from the main one ({other} of "
        "{nodes} nodes); they are kept in the output but points are snapped to the main piece",
    ),
    "street_no_one": (
        "街道 {name}（{id}）：{column} 为 {official:,.0f}，但其中没有放置任何居民"
        "（OSM中未找到住宅）；其人口未计入",
        "street {name} ({id}): {column} {official:,.0f} but no resident was placed inside (no "
        "homes found in OSM); its count is left out",
    ),
    "streets_far": (
        "{n}/{total}个街道的{column}与按OSM放置的居民数相差{ratio:g}倍以上（{listed}）；"
        "可能是OSM缺少住宅，或人口数对应的范围不同",
        "{n} of {total} streets: {column} is more than {ratio:g} times the residents placed "
        "from OSM ({listed}); OSM may lack homes there, or the counts are for other areas",
    ),
    "osm_incomplete": (
        "{category}（{id}）：OSM中共{count}处，对应{population:,}居民（每万人{per_10k:.2f}处；完整的"
        "地图至少应有{typical:g}处，依据 {source}）：OSM数据看来不完整，其缺口可能只是数据缺失。"
        "请提供规划部门的名录，例如 --facilities {example}，"
        "或在核实OSM后使用 --authoritative {id}。",
        "{category} ({id}): OSM holds {count} for {population:,} residents ({per_10k:.2f} per "
        "10,000; a complete map holds at least {typical:g}, {source}): OSM looks incomplete, so "
        "its gaps may be missing data. Give the planner's list, e.g. --facilities {example}, or "
        "--authoritative {id} after checking OSM.",
    ),
    # terminal lines of `circles analyze`
    "network_line": (
        "{file}：步行路网 {nodes} 个节点、{edges} 条边；{units} {count} 个，"
        "人口 {population:,}（{kind}）",
        "{file}: {nodes} nodes, {edges} edges; {count} {units}, population {population:,} ({kind})",
    ),
    "units_compound": ("小区/居住街坊", "residential compounds"),
    "units_community": ("社区", "communities"),
    "pop_official": ("官方", "official"),
    "pop_estimated": ("估算", "estimated"),
    "pop_calibrated": ("估算，已校准", "estimated, calibrated"),
    "basis_line": (
        "  人口依据：{land}，研究范围 {area:.1f} km²；{density:,.0f} 人/km²；"
        "{by_buildings:.0%} 按住宅建筑、{by_land:.0%} 按用地面积放置；{how}",
        "  population basis: {land} of {area:.1f} km²; {density:,.0f} residents/km²; "
        "{by_buildings:.0%} placed by buildings, {by_land:.0%} by land area; {how}",
    ),
    "land_communities": ("社区文件", "communities file"),
    "land_share": ("居住用地占 {share:.1%}", "residential land {share:.1%}"),
    "calibrated_by": ("已按 {by} 校准", "calibrated by {by}"),
    "calibrated_factor": (
        "（估算 {before:,} × {factor:g}）",
        " (estimate {before:,} x {factor:g})",
    ),
    "calibrated_before": ("（估算 {before:,}）", " (estimate {before:,})"),
    "calibrated_part": (
        "部分按 {by} 校准：其余地方的人均指标仅供参考",
        "partly calibrated by {by}: per-capita results elsewhere are indicative",
    ),
    "not_calibrated": (
        "估算且未校准：人均指标仅供参考（可提供 --population）",
        "estimated, not calibrated: per-capita results are indicative (give --population)",
    ),
    "category_line": (
        "  {name}（{count}处）{basis}：{rules}",
        "  {name} ({count}){basis}: {rules}",
    ),
    "category_no_data": ("  {name}：无数据", "  {name}: no data"),
    "standards_line": ("标准：{name}［{profile}；{how}］", "standards: {name} [{profile}; {how}]"),
    "rule_fails": ("，{failing}/{judged} 个单元未达标", ", {failing}/{judged} fail"),
    "units_note": (
        "  单元：OSM居住小区（小区/居住街坊）；按社区定义的规则需提供 --communities 才评估",
        "  units: OSM residential compounds (小区/居住街坊); rules per 社区 are not evaluated "
        "without --communities",
    ),
    "ranking_head": (
        "未覆盖人数最多的单元（按各类别主要步行规则，前{n}名）：",
        "Most residents beyond reach, by each category's main walking rule (worst {n}):",
    ),
    "ranking_group": ("  {name}（{level}）：", "  {name} ({level}):"),
    "level_community": ("社区", "communities"),
    "level_compound": ("小区", "residential compounds"),
    "level_street": ("街道", "streets"),
    "ranking_entry": (
        "    {rank}. {name}：{uncovered:,.0f}人未覆盖，{share:.0%}可达，"
        "步行中位{median}、最远{worst}，最近设施：{nearest}",
        "    {rank}. {name}: {uncovered:,.0f} beyond reach, {share:.0%} within, median {median}, "
        "worst {worst}, nearest: {nearest}",
    ),
    "minutes": ("{minutes:.0f}分钟", "{minutes:.0f} min"),
    "beyond_limit": ("超出搜索范围", "beyond search limit"),
    "none": ("无", "none"),
    "unnamed": ("未命名（{id}）", "unnamed ({id})"),
    "warning": ("警告：{text}", "warning: {text}"),
    "wrote": ("已写出 {paths}（{seconds:.1f} 秒）", "wrote {paths} in {seconds:.1f} s"),
    "wrote_size": ("已写出 {path}（{size:.1f} MB）", "wrote {path} ({size:.1f} MB)"),
    "error": ("circles：错误：{text}", "circles: error: {text}"),
    "error_line": ("错误：{text}", "error: {text}"),
    # circles check
    "check_standards": ("标准：{name}［{profile}］", "standards: {name} [{profile}]"),
    "check_facilities": (
        "{file}：读取设施 {records} 处（坐标 {crs}；{categories}；有规模数据 {with_capacity} 处）",
        "{file}: {records} facilities read (datum {crs}; {categories}; {with_capacity} with "
        "capacity)",
    ),
    "check_communities": (
        "{file}：读取社区 {records} 个，人口 {population:,.0f}；60岁以上人数：{elderly}；"
        "儿童人数：{children}",
        "{file}: {records} communities read, population {population:,.0f}; aged 60+: "
        "{elderly}; children: {children}",
    ),
    "check_boundaries": (
        "{file}：读取边界 {records} 个（{levels}）",
        "{file}: {records} boundaries read ({levels})",
    ),
    "check_failed": (
        "{errors} 个错误，{warnings} 个警告",
        "{errors} error(s), {warnings} warning(s)",
    ),
    "check_ok": ("没有错误，{warnings} 个警告", "no errors, {warnings} warning(s)"),
    "given": ("有", "given"),
    "not_given": ("无", "not given"),
    # circles score
    "score_line": (
        "#{rank} {name}（{lon:.6f},{lat:.6f}）：{rule}——"
        "新增 {newly:,.0f} 人进入 {threshold:.0f} 米内；新达标社区 {passing} 个；{existing}",
        "#{rank} {name} ({lon:.6f},{lat:.6f}): {newly:,.0f} residents newly within "
        "{threshold:.0f} m ({rule}); {passing} communities newly pass; {existing}",
    ),
    "no_existing": ("数据中没有现有设施（无数据）", "no existing facility in the data (no data)"),
    "nearest_existing": ("最近的现有设施 {distance}", "nearest existing {distance}"),
    "metres": ("{m:.0f} 米", "{m:.0f} m"),
    # circles recommend
    "rec_method": (
        "方法：{method}；候选点 {candidates} 个；用时 {seconds:.1f} 秒",
        "method: {method}; {candidates} candidates; {seconds:.1f} s",
    ),
    "rec_gap": (
        "贪心算法覆盖 {greedy:,.0f} 人，{exact} {best:,.0f} 人；任何方案最多覆盖 {bound:,.0f} 人"
        "（差距 {gap:.1%}）",
        "greedy covers {greedy:,.0f}, the {exact} {best:,.0f}; no choice covers more than "
        "{bound:,.0f} (gap {gap:.1%})",
    ),
    "exact_optimum": ("精确求解的最优解", "exact optimum"),
    "exact_best": ("精确求解器的最好解（未证明最优）", "exact solver's best (not proven)"),
    "rec_remaining": (
        "{threshold:.0f} 米以外的居民：选址前 {before:,.0f} 人，选址后 {after:,.0f} 人；"
        "仍有 {failing} 个单元未达标",
        "residents beyond {threshold:.0f} m: {before:,.0f} before, {after:,.0f} after; "
        "{failing} communities still failing",
    ),
    # circles compare
    "compare_nothing": (
        "当前标准中没有规则评判 {categories}：无可比较",
        "no rule of the standards judges {categories}: nothing to compare",
    ),
    "compare_line": (
        "{rule}：{before} → {after}（{status_before} → {status_after}）",
        "{rule}: {before} -> {after} ({status_before} -> {status_after})",
    ),
    # circles batch
    "batch_progress": (
        "[{done}] {name}：{status}，用时 {seconds:.1f} 秒：{what}",
        "[{done}] {name}: {status} in {seconds:.1f} s: {what}",
    ),
    "batch_header": (
        "区县|状态|标准|尝试次数|秒|单元|人口|人口依据|未达标规则",
        "district|status|standards|tries|s|communities|population|basis|rules fail",
    ),
    "basis_uncalibrated": ("估算（未校准）", "estimate (uncalibrated)"),
    "basis_scaled": ("估算 ×{factor:g}（{by}）", "estimate x{factor:g} ({by})"),
    "batch_error": ("{name}：{error}", "{name}: {error}"),
    "status_ok": ("完成", "ok"),
    "status_failed": ("失败", "failed"),
    "batch_failed": (
        "circles：{total} 个区县中有 {failed} 个失败",
        "circles: {failed} of {total} districts failed",
    ),
    "serve_ready": (
        "已载入 {folder}（{seconds:.1f} 秒）。规划工作台：{url}  （Ctrl+C 退出）",
        "loaded {folder} in {seconds:.1f} s. Planning workbench: {url}  (Ctrl+C quits)",
    ),
    # outputs and planning: planning/*.py, present/*.py, serve/*.py, cli.py (score, recommend,
    # compare)
    "out_method_greedy": ("惰性贪心算法", "lazy greedy"),
    "out_method_greedy_large": (
        "惰性贪心算法（规模过大，未精确求解：候选点 {n} 个，覆盖关系 {pairs} 对）",
        "lazy greedy (instance too large for exact: {n} candidates, {pairs} covering pairs)",
    ),
    "out_method_exact": (
        "精确求解（PuLP/CBC，{status}，{proof}{kept}）",
        "exact (PuLP/CBC, {status}, {proof}{kept})",
    ),
    "out_proven_optimal": ("已证明最优", "optimal"),
    "out_gap_at_most": ("与最优差距 ≤ {gap:.1%}", "gap ≤ {gap:.1%}"),
    "out_greedy_kept": ("；采用贪心结果，其覆盖人数更多", "; greedy kept, it covers more"),
    "out_cbc_optimal": ("最优", "Optimal"),
    "out_cbc_not_solved": ("未求解完成", "Not Solved"),
    "out_cbc_infeasible": ("无可行解", "Infeasible"),
    "out_cbc_unbounded": ("无界", "Unbounded"),
    "out_cbc_undefined": ("状态不明", "Undefined"),
    "out_cbc_stopped": ("{status}，已到时限停止", "{status}, stopped"),
    "out_cbc_no_solution": ("{status}，未找到解", "{status}, no solution"),
    "out_count_positive": ("--count 至少为 1，收到 {k}。", "--count must be at least 1, got {k}."),
    "out_no_candidates": (
        "候选点文件中没有任何点位；请至少给出一个点。",
        "the candidate file holds no site; give at least one point.",
    ),
    "out_did_you_mean": ("是否指“{close}”？", " Did you mean {close!r}?"),
    "out_did_you_mean_named": ("是否指“{close}”（{name}）？", " Did you mean {close!r} ({name})?"),
    "out_unknown_category_known": (
        "未知类别“{category}”。{hint}已有类别：{known}。",
        "unknown category {category!r}.{hint} Known: {known}.",
    ),
    "out_unknown_rule": (
        "类别 {category} 没有步行可达规则“{rule}”；应为以下之一：{known}。",
        "unknown access rule {rule!r} for {category}; expected one of: {known}.",
    ),
    "out_no_access_rule": (
        "所用标准中，类别“{category}”没有步行可达规则。",
        "category {category!r} has no walking-access rule in the standards used.",
    ),
    "out_outside_study_area": (
        "选址 {lon:.6f},{lat:.6f} 位于本次分析的研究范围（{w:.4f},{s:.4f},{e:.4f},{n:.4f}）之外。"
        "请核对该点、其 --crs（wgs84、gcj02、bd09）以及经纬度顺序。",
        "site {lon:.6f},{lat:.6f} lies outside the study area of this analysis "
        "({w:.4f},{s:.4f},{e:.4f},{n:.4f}). Check the point, its --crs (wgs84, gcj02, bd09) and "
        "lon,lat order.",
    ),
    "out_site": ("选址", "site"),
    "out_site_n": ("选址 {n}", "site {n}"),
    "out_no_streets": (
        "{folder}：本次分析没有街道；请用 --boundaries FILE（街道边界）重新运行 `circles analyze`，"
        "才能每个街道各绘一张图。",
        "{folder}: no 街道 in this analysis; run circles analyze with --boundaries FILE (street "
        "polygons) to draw one map per street.",
    ),
    "out_not_analysis": (
        "{folder}：不是分析结果文件夹（缺少 {state} 或 {standards}）。"
        "请先运行 `circles analyze --out FOLDER`，再把该文件夹传给 --analysis。",
        "{folder}: not an analysis folder ({state} or {standards} missing). Run `circles "
        "analyze --out FOLDER` first and pass that folder to --analysis.",
    ),
    "out_cannot_read": (
        "{file}：无法读取（{error}）。请重新运行 `circles analyze`。",
        "{file}: cannot read ({error}). Run `circles analyze` again.",
    ),
    "out_files_differ": (
        "{folder}：analysis.gpkg 与 access.npz 不一致。请重新运行 `circles analyze`。",
        "{folder}: analysis.gpkg and access.npz differ. Run `circles analyze` again.",
    ),
    "out_plan_too_many": (
        "方案共有 {n:,} 项操作；一次最多评判 {max:,} 项。请拆成几个方案。",
        "the plan holds {n:,} actions; at most {max:,} are judged at once. Split it into "
        "several plans.",
    ),
    "out_plan_file_too_many": (
        "“{file}”：共 {n:,} 项操作；一次最多评判 {max:,} 项。请把方案拆成几个文件。",
        "{file}: {n:,} actions; at most {max:,} are judged at once. Split the plan into "
        "several files.",
    ),
    "out_plan_no_action": (
        "“{file}”：没有操作列；请加一列 action（操作），每行填写新增、关闭或迁移"
        "（add/close/move）。现有列：{listed}。",
        "{file}: no action column; add a column action (操作) with add, close or move "
        "(新增/关闭/迁移) in each row. Columns: {columns}.",
    ),
    "out_plan_row": ("“{file}”第 {n} 行", "{file}, row {n}"),
    "out_plan_feature": ("“{file}”第 {n} 个要素", "{file}, feature {n}"),
    "out_action_n": ("第 {n} 项操作", "action {n}"),
    "out_action_error": ("{label}：{error}", "{label}: {error}"),
    "out_bad_actions": ("方案中有 {n} 项操作有误：", "{n} bad actions in the plan:"),
    "out_more": ("……另有 {n} 项", "... and {n} more"),
    "out_closed_twice": (
        "设施“{id}”已被关闭或迁移。",
        "facility {id!r} is already closed or moved.",
    ),
    "out_action_missing": (
        "缺少操作；请填写新增、关闭或迁移（add/close/move）。",
        "action missing; write add, close or move (新增/关闭/迁移).",
    ),
    "out_unknown_action": (
        "未知操作“{kind}”；应为新增、关闭或迁移（add/close/move）。",
        "unknown action {kind!r}; expected add/close/move (新增/关闭/迁移).",
    ),
    "out_category_missing": (
        "缺少类别；请说明新增设施的类别（编号或名称，例如 幼儿园）。",
        "category missing; say which category the new site is (id or name, e.g. 幼儿园).",
    ),
    "out_unknown_category": (
        "未知类别“{category}”。{hint}",
        "unknown category {category!r}.{hint}",
    ),
    "out_kind_add": ("新增", "add"),
    "out_kind_close": ("关闭", "close"),
    "out_kind_move": ("迁移", "move"),
    "out_needs_facility_id": (
        "{kind_text}需要 facility_id：现有设施的编号（分析结果设施图层的 facility_id 列，"
        "例如 osm:node/123）。",
        "{kind} needs facility_id: the id of an existing facility (column facility_id of the "
        "analysis's facilities layer, e.g. osm:node/123).",
    ),
    "out_unknown_facility": (
        "未知 facility_id“{id}”。{hint}",
        "unknown facility_id {id!r}.{hint}",
    ),
    "out_facility_ambiguous": (
        "facility_id“{id}”对应分析结果中的 {n} 处设施。",
        "facility_id {id!r} names {n} facilities of the analysis.",
    ),
    "out_facility_other_category": (
        "设施“{id}”属于{own_name}，不是{category_name}。",
        "facility {id!r} is a {own}, not a {category}.",
    ),
    "out_needs_lonlat": (
        "{kind_text}需要数值形式的经度和纬度，收到“{lon}”、“{lat}”。",
        "{kind} needs lon and lat as numbers, got {lon!r}, {lat!r}.",
    ),
    "out_outside_analysed": (
        "选址 {lon:.6f},{lat:.6f} 位于分析范围之外。请核对该点、其坐标系"
        "（--crs wgs84、gcj02 或 bd09）以及经纬度顺序。",
        "site {lon:.6f},{lat:.6f} lies outside the analysed area. Check the point, its datum "
        "(--crs wgs84, gcj02 or bd09) and the lon,lat order.",
    ),
    "out_at_format": (
        "--at “{text}”：应为以度为单位的 LON,LAT（经度,纬度），例如 --at 104.08,30.69",
        "--at {text!r}: expected LON,LAT in degrees, e.g. --at 104.08,30.69",
    ),
    "out_at_range": (
        "--at “{text}”：经度应在 -180..180 之间，纬度应在 -90..90 之间（LON,LAT）",
        "--at {text!r}: longitude must lie in -180..180, latitude in -90..90 (LON,LAT)",
    ),
    "out_at_or_sites": (
        "请给出 --at LON,LAT 或 --sites FILE 二者之一（且只给一个）",
        "give exactly one of --at LON,LAT or --sites FILE",
    ),
    "out_title_scores": ("{name}：候选选址评分", "{name}: proposed sites"),
    "out_title_recommend": ("{name}：推荐新增选址（K={k}）", "{name}: recommended sites K={k}"),
    "out_replaces_analysis": (
        "--out {out}：会覆盖分析结果文件夹 {folder}；请另选一个。",
        "--out {out}: it would replace the analysis folder {folder}; choose another.",
    ),
    "out_no_cjk_font": (
        "没有安装含中文字形的字体，中文会显示为方框。请安装一种：Debian/Ubuntu 用 "
        "`apt-get install fonts-noto-cjk`；Windows 与 macOS 自带微软雅黑 / 苹方。"
        "或使用 --lang en。",
        "no font with Chinese glyphs is installed, so Chinese text would print as boxes. "
        "Install one: Debian/Ubuntu `apt-get install fonts-noto-cjk`; Windows and macOS "
        "ship Microsoft YaHei / PingFang SC. Or use --lang en.",
    ),
    "out_unknown_category_of": (
        "未知类别“{category}”；应为以下之一：{known}。",
        "unknown category {category!r}; expected one of {known}.",
    ),
    "out_unknown_category_or_all": (
        "未知类别“{category}”；应为 all 或以下之一：{known}。",
        "unknown category {category!r}; expected 'all' or one of {known}.",
    ),
    "out_unknown_district": (
        "未知区县“{district}”；本次分析包含：{known}。",
        "unknown district {district!r}; this analysis holds: {known}.",
    ),
    "out_unknown_format": (
        "--format {formats}：应为 {listed} 之一（多个格式以逗号分隔）。",
        "--format {formats}: expected {known} (comma-separated).",
    ),
    "out_unknown_tiles": (
        "--tiles “{tiles}”：应为以下之一：{known}。",
        "--tiles {tiles!r}: expected one of {known}.",
    ),
    "out_tianditu_key": (
        "--tiles tianditu 需要在环境变量 {var} 中提供天地图密钥：请在 "
        "https://console.tianditu.gov.cn/ 注册（控制台 → 应用管理 → 创建新应用，"
        "应用类型 浏览器端），然后运行 `export {var}=<key>`（Windows：`set {var}=<key>`）。"
        "或选用 --tiles osm、amap 或 none。",
        "--tiles tianditu needs a 天地图 key in the environment variable {var}: register at "
        "https://console.tianditu.gov.cn/ (控制台 → 应用管理 → 创建新应用, 应用类型 浏览器端), "
        "then `export {var}=<key>` (Windows: `set {var}=<key>`). Or choose --tiles osm, amap or "
        "none.",
    ),
    "out_plan_suffix": (
        "方案文件“{name}”：应为以下格式之一：{known}。",
        "plan file {name!r}: expected one of {known}.",
    ),
    "out_expect_recommend": (
        '应为 {{"category": ID, "k": K, "actions": [...]}}。',
        'expected {{"category": ID, "k": K, "actions": [...]}}.',
    ),
    "out_k_range": (
        "k 应为 1 到 {max} 之间的整数，收到“{k}”。",
        "k must be a whole number from 1 to {max}, got {k!r}.",
    ),
    "out_unknown_job": ("未知任务“{job}”。", "unknown job {job!r}."),
    "out_expect_export": (
        '应为 {{"folder": "/absolute/path", "actions": [...]}}。',
        'expected {{"folder": "/absolute/path", "actions": [...]}}.',
    ),
    "out_unknown_download": (
        "未知下载类型“{kind}”；应为 csv、geojson 或 xlsx。",
        "unknown download {kind!r}; expected csv, geojson or xlsx.",
    ),
    "out_body_too_large": ("请求内容超过 {limit:,} 字节。", "request body over {limit:,} bytes."),
    "out_send_json": (
        "请以 JSON 发送请求内容，并设 Content-Type: application/json。",
        "send the body as JSON with Content-Type: application/json.",
    ),
    "out_bad_json": ("JSON 请求内容格式错误：{error}。", "malformed JSON body: {error}."),
    "out_expect_actions": (
        '应为操作的 JSON 列表（或 {{"actions": [...]}}）。',
        'expected a JSON list of actions (or {{"actions": [...]}}).',
    ),
    "out_api_too_many": (
        "共 {n:,} 项操作；一次最多评判 {max:,} 项。",
        "{n:,} actions; at most {max:,} are judged at once.",
    ),
    "out_action_object": (
        "{label}：应为对象，收到 {type}。",
        "{label}: expected an object, got {type}.",
    ),
    "out_action_field": (
        "{label}：未知字段“{field}”；可用字段：{keys}。",
        "{label}: unknown field {field!r}; fields: {keys}.",
    ),
    "out_action_text": (
        "{label}：{key} 应为文本，收到“{value}”。",
        "{label}: {key} must be text, got {value!r}.",
    ),
    "out_value_missing": ("缺少 {name}。", "{name} missing."),
    "out_value_number": (
        "{name} 应为以度为单位的数值，收到“{value}”。",
        "{name} must be a number in degrees, got {value!r}.",
    ),
    "out_value_range": (
        "{name} 应在 -{bound}..{bound} 之间，收到 {number}。",
        "{name} must lie in -{bound}..{bound}, got {number}.",
    ),
    "out_crs_choice": (
        "crs 应为以下之一：{known}，收到“{value}”。",
        "crs must be one of {known}, got {value!r}.",
    ),
    "out_internal_error": ("内部错误（{kind}）", "internal error ({kind})"),
    "out_export_relative": (
        "导出文件夹“{folder}”：请给出绝对路径（例如 /home/me/plan-1）。",
        "export folder {folder!r}: give an absolute path (e.g. /home/me/plan-1).",
    ),
    "out_export_in_analysis": (
        "导出文件夹 {target}：位于分析结果文件夹 {analysis} 之内，或包含该文件夹。",
        "export folder {target}: it lies in the analysis folder {analysis} or holds it.",
    ),
    "out_export_exists": (
        "导出文件夹 {target}：已存在且不是空文件夹；未覆盖任何文件。",
        "export folder {target}: exists and is not an empty folder; nothing overwritten.",
    ),
}


# labels of stable value ids (statuses, unit levels, data bases) in every output
VALUES = {
    "pass": ("达标", "pass"),
    "fail": ("未达标", "fail"),
    "no_data": ("无数据", "no data"),
    "not_evaluated": ("未评估", "not evaluated"),
    "incomplete": ("数据不全", "incomplete data"),
    "community": ("社区", "community"),
    "compound": ("小区/居住街坊", "residential compound"),
    "planner": ("规划部门数据", "planner's data"),
    "checked": ("OSM（规划部门已核实）", "OSM, checked by the planner"),
    "indicative": ("参考（OSM数据可能不完整）", "indicative (OSM may be incomplete)"),
    "street": ("街道", "street"),
    "village": ("行政村", "village"),
    "villages": ("个行政村", "villages"),
    "district": ("区", "district"),
    "residents": ("人", "residents"),
    "elderly": ("名60岁以上老人", "residents aged 60+"),
    "children": ("名儿童", "children"),
    "facilities": ("处", "facilities"),
    "communities": ("个社区", "communities"),
    "places": ("个托位/床位", "places"),
    "m2": ("平方米", "m²"),
    "access": ("步行可达", "walking access"),
    "presence": ("单元配置", "presence per unit"),
    "per_capita": ("人均指标", "per-capita supply"),
    "coverage_rate": ("覆盖率", "coverage rate"),
    "unnamed": ("未命名", "unnamed"),
    "osm": ("OSM", "OSM"),
    "planner+osm": ("规划部门数据（与OSM匹配）", "planner's data, matched in OSM"),
    True: ("是", "yes"),
    False: ("否", "no"),
}


def label(key: object, lang: str) -> object:
    """Display label of a stable value id in ``zh`` or ``en``; unknown values pass through."""
    pair = VALUES.get(key) if isinstance(key, str | bool) else None
    return pair[0 if lang == "zh" else 1] if pair else key


TEXT = {
    "sites": ("选址", "Sites"),
    "areas": ("步行服务范围", "Walking service areas"),
    "homes": ("新覆盖居民点", "Newly covered homes"),
    "uncovered": ("仍未覆盖居民点", "Still uncovered homes"),
    "existing": ("现有设施", "Existing facilities"),
    "minutes": ("分钟", "min"),
    "communities": ("社区达标情况", "Communities"),
    "facilities": ("设施", "Facilities"),
    "walk_time": ("步行时间", "Walking time"),
    "beyond": ("超出搜索范围", "beyond search limit"),
    "network": ("步行路网", "Walking network"),
    "population": ("人口", "population"),
    "estimated": ("估算", "estimated"),
    "source": ("来源", "source"),
    "capacity": ("规模", "capacity"),
    "category": ("类别", "category"),
    "shortfall": ("缺口", "shortfall"),
    "standards": ("标准", "standards"),
    "data_date": ("数据日期", "data date"),
    "basis": ("数据依据", "data basis"),
    "worst_units": (
        "未覆盖人数最多（人数，可达比例）",
        "Most residents beyond reach (share within)",
    ),
    "unknown": ("未知", "unknown"),
    "index": ("各区地图", "District maps"),
    "rule": ("规则", "rule"),
    "share": ("步行可达比例", "share within reach"),
    "target": ("目标", "target"),
    "result": ("结果", "result"),
    "counted": ("计入人口", "residents counted"),
    "counted_total": ("常住人口", "all residents"),
    "counted_elderly": ("60岁以上人口", "residents aged 60+"),
    "counted_children": ("儿童", "children"),
    "name": ("名称", "name"),
    "gap": ("缺口：未覆盖人口", "Gap: residents not within reach"),
    "gap_cell": ("每格未覆盖人口", "residents not within reach per cell"),
    "outline": ("轮廓：达标 / 未达标", "outline: pass / fail"),
    "target_met": ("达到目标", "target met"),
    "beyond_unit": ("搜索范围内无设施", "no facility within the search limit"),
    "cell": ("格", "cell"),
    "m": ("米", "m"),
    "rank": ("排名", "rank"),
    "profile_by_district": (
        "按所选区县选用标准：{district}（{profile}）",
        "Standards chosen for the district: {district} ({profile})",
    ),
    "profile_outside": (
        "标准 {profile} 不是为 {district} 制定的（适用于 {codes}）；该区县适用的标准为 {fits}，"
        "可用 --standards {fits} 选用",
        "standards profile {profile} is not written for {district} (it applies to {codes}); "
        "the profile for this district is {fits}: give --standards {fits}",
    ),
    "chosen_given": ("由 --standards 指定", "given with --standards"),
    "chosen_district": ("按所选区县选用", "chosen for the district"),
    "chosen_default": ("默认", "the default"),
}


def tr(key: str, lang: str) -> str:
    """The text of ``key`` (a map text, else a value label) in Chinese (``zh``) or English."""
    return TEXT[key][0 if lang == "zh" else 1] if key in TEXT else str(label(key, lang))


def say(key: str, **fields: object) -> str:
    """The message ``key`` in the current run's language, its ``{fields}`` filled in."""
    zh, en = CATALOGUE[key]
    return (zh if _LANG.get() == "zh" else en).format(**fields)


def current_language() -> str:
    """The language of the current run: ``zh`` (the default) or ``en``."""
    return _LANG.get()


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Messages said inside the block are in ``lang`` (``zh`` or ``en``)."""
    token = _LANG.set("en" if lang == "en" else "zh")
    try:
        yield
    finally:
        _LANG.reset(token)

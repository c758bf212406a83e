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
    "named_id": ("{name}（{id}）", "{name} ({id})"),
    # circles compare
    "compare_nothing": (
        "当前标准中没有规则评判{categories}：无可比较",
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
    # input files: sources/planner_files.py (problems of planners' files), cli.py check
    "in_file": ("文件“{file}”", "{file}"),
    "in_at_row": ("第 {n} 行", "row {n}"),
    "in_at_feature": ("第 {n} 个要素", "feature {n}"),
    "in_rows_row": ("第 {rows} 行", "rows {rows}"),
    "in_rows_feature": ("第 {rows} 个要素", "features {rows}"),
    "in_column": ("列“{column}”", "column {column!r}"),
    "in_where_sep": ("，", ", "),
    "in_problem": ("{where}：{message}", "{where}: {message}"),
    "in_errors_head": ("输入文件中有 {n} 个错误：", "{n} error(s) in the input files:"),
    "in_more_errors": ("……另有 {n} 个错误", "... and {n} more errors"),
    "in_list_sep": ("、", ", "),
    "in_quoted": ("“{text}”", "{text!r}"),
    "in_bad_option": (
        "{text}：文件选项“{item}”有误；应为 键=值，键为以下之一：{keys}。",
        "{text}: bad file option {item!r}; expected key=value with key one of {keys}.",
    ),
    "in_not_found": ("找不到该文件。", "file not found."),
    "in_xls": (
        "不读取旧版 .xls 工作簿；请另存为 .xlsx 或 CSV。",
        "old .xls workbooks are not read; save it as .xlsx or CSV.",
    ),
    "in_unreadable": ("无法读取该文件（{kind}：{exc}）。", "cannot read the file ({kind}: {exc})."),
    "in_header_below": (
        "表头在第 {row} 行；其上 {n} 行（标题、说明）已跳过。",
        "header found in row {row}; the {n} row(s) above it (title, notes) are skipped.",
    ),
    "in_no_rows": ("文件中没有数据行。", "the file holds no rows."),
    "in_no_cpg": (
        "Shapefile 旁没有 .cpg 文件：其文字已按 {encoding} 读取（按此编码可以解码，不是 UTF-8）。"
        "请添加内容为 {encoding} 的 .cpg 文件加以说明。",
        "no .cpg beside the Shapefile: its text was read as {encoding}, in which it decodes "
        "(not UTF-8). Add a .cpg file holding {encoding} to say so.",
    ),
    "in_no_crs": (
        "文件没有坐标参考系（CRS）；请带坐标系另存（例如 EPSG:4326）。",
        "the file has no CRS; save it with one (e.g. EPSG:4326).",
    ),
    "in_no_such_column": (
        "选项 {key}={name}：没有这一列；现有列为 {columns}。",
        "option {key}={name}: no such column; columns are {columns}.",
    ),
    "in_a_number": ("数值", "a number"),
    "in_a_population": ("人口数", "a population"),
    "in_expected": ("应为{what}，实为“{value}”。", "expected {what}, got {value!r}."),
    "in_negative": ("数值为负：“{value}”。", "negative value {value!r}."),
    "in_missing": ("缺少{what}。", "{what} missing."),
    "in_no_datum": (
        "坐标位于中国境内，但未说明坐标系：请用 --crs 或 {file}::crs=… 指明是 gcj02（高德/腾讯）、"
        "bd09（百度）还是 wgs84（GPS/天地图/OSM）。{hint}",
        "the coordinates lie in China but no datum is stated (坐标系未说明): say which with "
        "--crs or {file}::crs=…: gcj02 (高德/腾讯 Amap, Tencent), bd09 (百度 Baidu) or wgs84 "
        "(GPS/天地图/OSM).{hint}",
    ),
    "in_unlocated_entry": ("第 {row} 行（{name}）", "{row} ({name})"),
    "in_unlocated_more": ("，另有 {n} 行", " and {n} more"),
    "in_unlocated": (
        "{n} 行没有坐标：{listed}{more}。请补上坐标或删除这些行。",
        "{n} {label}(s) without coordinates: {listed}{more}. Give them coordinates or delete them.",
    ),
    "in_unlocated_skipped": (
        "{n} 行没有坐标，已跳过：{listed}{more}。"
        "请补上坐标或删除这些行（加 --strict 则作为错误）。",
        "{n} {label}(s) without coordinates skipped: {listed}{more}. Give them coordinates or "
        "delete them (--strict makes this an error).",
    ),
    "in_no_geometry": ("没有几何图形。", "no geometry."),
    "in_no_lonlat": (
        "没有经度/纬度列；请将列命名为 经度/纬度（或 lon/lat、lng/lat，或内容为“经度,纬度”的 "
        "location 列），或用 ::lon=COLUMN,lat=COLUMN 指定。现有列：{columns}。",
        "no longitude/latitude columns; name them 经度/纬度 (or lon/lat, lng/lat, a 'location' "
        "column 'lon,lat'), or give ::lon=COLUMN,lat=COLUMN. Columns: {columns}.",
    ),
    "in_got_nothing": ("空白", "nothing"),
    "in_not_coordinate": ("坐标应为数字，实为{got}。", "expected a coordinate number, got {got}."),
    "in_degrees_among_metres": (
        "坐标系混用：{n} 条记录看似经纬度（{rows}……），其余为 {datum} 投影坐标（米）。",
        "mixed coordinate systems: {n} records look like degrees ({rows}...) while the others "
        "are projected metres in {datum}.",
    ),
    "in_metres_among_degrees": (
        "坐标系混用：{total} 条记录中有 {n} 条为投影坐标（米）（{rows}……），其余为经纬度。"
        "每个文件请只用一种坐标系。",
        "mixed coordinate systems: {n} of {total} records hold projected metres ({rows}...) and "
        "the others degrees. Use one coordinate system per file.",
    ),
    "in_all_metres": (
        "坐标看似投影坐标（米）（例如 {x:.0f}, {y:.0f}），不是经纬度；请给出文件的坐标系，例如 "
        "::crs=EPSG:4547（CGCS2000 3度带第39带）。",
        "the coordinates look like projected metres (e.g. {x:.0f}, {y:.0f}), not degrees; give "
        "the file's CRS, e.g. ::crs=EPSG:4547 (CGCS2000 3-degree zone 39).",
    ),
    "in_swapped": (
        "经度 {lon} 与纬度 {lat} 似乎填反了；请检查列“{lon_col}”/“{lat_col}”"
        "（或用 ::lon={lat_col},lat={lon_col}）。",
        "longitude {lon} and latitude {lat} look swapped; check the columns "
        "{lon_col!r}/{lat_col!r} (or give ::lon={lat_col},lat={lon_col}).",
    ),
    "in_not_lonlat": ("（{x}, {y}）不是有效的经纬度。", "({x}, {y}) is not a longitude/latitude."),
    "in_outside_china": (
        "（{x}, {y}）位于中国境外，{datum_up} 在境外没有定义；--crs 是否正确？",
        "({x}, {y}) lies outside China, where {datum_up} is not defined; is the --crs right?",
    ),
    "in_outside_extract": (
        "（{lon:.6f}, {lat:.6f}）位于OSM数据文件范围（经度 {west}–{east}，纬度 {south}–{north}）"
        "之外；请删除该行，或使用范围更大的OSM数据文件。{hint}",
        "({lon:.6f}, {lat:.6f}) lies outside the OSM extract ({west}, {south}, {east}, {north}); "
        "remove the row or use a "
        "larger extract.{hint}",
    ),
    "in_inside_as_gcj02": (
        "按 gcj02（高德/腾讯）读取，所有点都在范围内：请用 --crs gcj02。",
        " Read as GCJ02 (Amap/Tencent) every point lies inside: give --crs gcj02.",
    ),
    "in_inside_as_bd09": (
        "按 bd09（百度）读取，所有点都在范围内：请用 --crs bd09。",
        " Read as BD09 (Baidu) every point lies inside: give --crs bd09.",
    ),
    "in_id_missing": ("缺少编号。", "id missing."),
    "in_duplicate_id": (
        "编号“{value}”重复（{rows}）；编号必须唯一。",
        "duplicate id {value!r} in {rows}; ids must be unique.",
    ),
    "in_option_category": ("{text}（选项 category=）", "{text} (option category=)"),
    "in_no_category": (
        "没有类别列（类别/类型/category），也没有 ::category=…；请说明这些设施属于哪一类别，"
        "例如 {file}::category=elderly_meal。",
        "no category column (类别/类型/category) and no ::category=…; say which category the "
        "facilities are, e.g. {file}::category=elderly_meal.",
    ),
    "in_category_missing": ("缺少类别。", "category missing."),
    "in_unknown_category": (
        "未知类别“{value}”。{hint}可用类别：{names}。",
        "unknown category {value!r}.{hint} Categories: {names}.",
    ),
    "in_did_you_mean": (
        "是否指“{label}”（{name}，{id}）？",
        " Did you mean {label!r} ({name}, {id})?",
    ),
    "in_wrong_datum": (
        "坐标看似 {best_up}（{source}），而不是 {datum_up}：{why}。请用 --crs {best}"
        "（或 {file}::crs={best}）。",
        "the coordinates look like {best_up} ({source}), not {datum_up}: {why}. Give --crs "
        "{best} (or {file}::crs={best}).",
    ),
    "in_source_gcj02": ("高德/腾讯", "Amap, Tencent"),
    "in_source_bd09": ("百度", "Baidu"),
    "in_source_wgs84": ("GPS/天地图/OSM", "GPS, OSM"),
    "in_fit_by_names": (
        "按 {best} 读取时，{n} 处设施中有 {matched} 处附近有同名的OSM设施，按 {datum} 读取时为 "
        "{given} 处",
        "{matched} of its {n} facilities lie near an OSM facility of the same name when read "
        "as {best_up}, {given} when read as {datum_up}",
    ),
    "in_fit_by_streets": (
        "按 {datum} 读取时各点距最近街道的中位距离为 {given_m:.0f} 米，按 {best} 读取时为 "
        "{best_m:.0f} 米",
        "the points sit a median {given_m:.0f} m from the nearest street when read as "
        "{datum_up}, {best_m:.0f} m when read as {best_up}",
    ),
    "in_need_polygons": (
        "{what}需要面数据：请提供 GeoJSON、GeoPackage 或 Shapefile，而不是表格。",
        "{what} need polygons: give a GeoJSON, GeoPackage or Shapefile, not a table.",
    ),
    "in_what_communities": ("社区边界", "communities"),
    "in_what_boundaries": ("边界", "boundaries"),
    "in_what_districts": ("区县边界", "districts"),
    "in_metres_in_degrees": (
        "文件声明的坐标系为 {crs}（经纬度），但有 {n} 个要素的坐标以米为单位：坐标系混用。"
        "请按其真实坐标系另存。",
        "the file says {crs} (degrees) but {n} features hold coordinates in metres: mixed "
        "coordinate systems. Save it with its true CRS.",
    ),
    "in_not_polygon": ("几何类型为{kind}，应为面。", "{kind}, expected a polygon."),
    "in_polygon_unrepairable": (
        "面无效（{reason}），无法修复。",
        "invalid polygon ({reason}) that cannot be repaired.",
    ),
    "in_geom_point": ("点", "Point"),
    "in_geom_multipoint": ("多点", "MultiPoint"),
    "in_geom_line": ("线", "LineString"),
    "in_geom_multiline": ("多线", "MultiLineString"),
    "in_geom_ring": ("闭合线", "LinearRing"),
    "in_geom_collection": ("几何集合", "GeometryCollection"),
    "in_geos_self_intersection": ("自相交", "Self-intersection"),
    "in_geos_ring_self_intersection": ("环自相交", "Ring Self-intersection"),
    "in_geos_too_few_points": (
        "几何部件的不同点太少",
        "Too few distinct points in geometry component",
    ),
    "in_geos_hole_outside": ("内环位于外环之外", "Hole lies outside shell"),
    "in_geos_nested_holes": ("内环相互嵌套", "Holes are nested"),
    "in_geos_interior_disconnected": ("内部不连通", "Interior is disconnected"),
    "in_geos_nested_shells": ("外环相互嵌套", "Nested shells"),
    "in_geos_duplicate_rings": ("环重复", "Duplicate Rings"),
    "in_geos_invalid_coordinate": ("坐标无效", "Invalid Coordinate"),
    "in_geos_ring_not_closed": ("环未闭合", "Ring is not closed"),
    "in_polygon_repaired": (
        "面无效（{reason}），已修复；请核对其轮廓。",
        "invalid polygon ({reason}) repaired; check its outline.",
    ),
    "in_no_population": (
        "没有人口列（人口/常住人口/population）；请用 ::population=COLUMN 指定。"
        "现有列：{columns}。",
        "no population column (人口/常住人口/population); give ::population=COLUMN. "
        "Columns: {columns}.",
    ),
    "in_exceeds_population": (
        "{value:.0f} 超过人口数 {population:.0f}。",
        "{value:.0f} exceeds the population {population:.0f}.",
    ),
    "in_overlaps": (
        "与{other}重叠 {area:,.0f} 平方米（占较小者的 {share:.0%}）；请核对边界。",
        "overlaps {other} by {area:,.0f} m² ({share:.0%} of the smaller); check the boundaries.",
    ),
    "in_no_names": (
        "没有名称列（名称/name）；各单元以编号命名。",
        "no name column (名称/name); units are named by their id.",
    ),
    "in_bad_level_option": (
        "选项 level={value}：应为 district（区）、street（街道）或 village（村）。",
        "option level={value}: expected district (区), street (街道) or village (村).",
    ),
    "in_no_level": (
        "没有级别列（级别/level）；请说明这些面是什么：::level=street（街道）。",
        "no level column (级别/level); say what the polygons are: ::level=street (街道).",
    ),
    "in_unknown_level": (
        "未知级别“{value}”；应为 区/district、街道/street 或 村/village。",
        "unknown level {value!r}; expected 区/district, 街道/street or 村/village.",
    ),
    "in_community_level": (
        "社区边界应通过 --communities 提供（含人口）。",
        "community boundaries belong in --communities (with population).",
    ),
    "in_nothing_to_check": (
        "没有可检查的文件：请提供 --facilities、--communities 或 --boundaries。",
        "nothing to check: give --facilities, --communities or --boundaries.",
    ),
    # input files and standards: standards.py, sources/office_files.py, sources/coords.py,
    # sources/divisions.py, sources/osm.py, sources/cache.py
    "src_sep": ("、", ", "),
    "src_did_you_mean": ("是否指“{name}”？", " Did you mean {name!r}?"),
    "src_verify_flag": ("［待核实］", " [待核实 verify]"),
    "src_category_selector": (
        "类别至少需要“tags”或“name_keywords”之一",
        "a category needs at least one of 'tags' or 'name_keywords'",
    ),
    "src_label_twice": (
        "名称或别名“{text}”同时被类别 {first} 和 {second} 使用",
        "name or alias {text!r} is used by both {first} and {second}",
    ),
    "src_minutes_profile": (
        "以分钟计的阈值需要“profile”（步行速度档，如 adult、elderly）",
        "a threshold in minutes needs a 'profile' (e.g. adult, elderly)",
    ),
    "src_metres_no_profile": (
        "以米计的阈值不能带“profile”",
        "a threshold in metres takes no 'profile'",
    ),
    "src_unknown_category_known": (
        "未知类别“{id}”；已有类别：{known}",
        "unknown category {id!r}; known: {known}",
    ),
    "src_unknown_rule": ("未知规则“{id}”", "unknown rule {id!r}"),
    "src_unknown_standards": (
        "未知标准“{name}”。{hint}内置标准：{names}；也可给出 YAML 文件。",
        "unknown standards profile {name!r}.{hint} Shipped profiles: {names}; or give a YAML file.",
    ),
    "src_key_twice": (
        "键“{name}”出现了两次（第一次在第 {line} 行）；请只保留一个",
        "key {name!r} appears twice (first on line {line}); keep one",
    ),
    "src_standards_not_found": (
        "{path}：找不到标准文件。请用 --standards 给出一个存在的 YAML 文件。",
        "{path}: standards file not found. Give an existing YAML file with --standards.",
    ),
    "src_standards_unreadable": (
        "{path}：无法读取标准文件（{error}）。请将其另存为 UTF-8 编码的 YAML 文件。",
        "{path}: cannot read standards file ({error}). Save it as UTF-8 YAML.",
    ),
    "src_yaml_where": (" 第 {line} 行第 {column} 列", " line {line}, column {column}"),
    "src_yaml_invalid": (
        "{path}{where}：YAML 语法错误（{problem}）。请修正该处的语法。",
        "{path}{where}: invalid YAML ({problem}). Fix the syntax at that line.",
    ),
    "src_at_key": ("{path} 第 {line} 行，键 {name}", "{path} line {line}, key {name}"),
    "src_top_mapping": (
        "{path}：文件顶层应为 YAML 映射（键: 值），实为{type}。",
        "{path}: expected a YAML mapping at the top, got {type}.",
    ),
    "src_expected_list": ("{where}：应为列表，实为{type}", "{where}: expected a list, got {type}"),
    "src_type_list": ("列表", "list"),
    "src_type_dict": ("映射", "dict"),
    "src_type_str": ("文本", "str"),
    "src_type_int": ("整数", "int"),
    "src_type_float": ("数值", "float"),
    "src_type_bool": ("布尔值", "bool"),
    "src_type_NoneType": ("空值", "NoneType"),
    "src_extends_cycle": (
        "{where}：“extends”形成循环（{loop}）；请删去其中一处。",
        "{where}: 'extends' makes a cycle ({loop}); remove one.",
    ),
    "src_unknown_parent": (
        "{where}：未知的上级标准“{parent}”。{hint}请给出内置标准（{names}）或相对于“{child}”"
        "的 YAML 文件。",
        "{where}: unknown parent profile {parent!r}.{hint} Give a shipped profile ({names}) or "
        "a YAML file relative to {child}.",
    ),
    "src_nothing_to_drop": (
        "{where}：没有可删除的继承规则“{id}”",
        "{where}: no inherited rule {id!r} to drop",
    ),
    "src_problems_one": ("标准文件有误：", "invalid standards file:"),
    "src_problems_many": ("标准文件有 {n} 处问题：", "{n} problems:"),
    "src_problem": ("{where}：{text}", "{where}: {text}"),
    "src_unknown_key": ("未知的键“{name}”", "unknown key {name!r}"),
    "src_missing_key": ("缺少键“{name}”", "missing key {name!r}"),
    "src_got": ("，实际为“{got}”", ", got {got!r}"),
    # pydantic's checks: English keeps pydantic's own text ({msg})
    "src_pyd_greater_than": ("应大于 {gt}", "{msg}"),
    "src_pyd_greater_than_equal": ("应大于或等于 {ge}", "{msg}"),
    "src_pyd_less_than": ("应小于 {lt}", "{msg}"),
    "src_pyd_less_than_equal": ("应小于或等于 {le}", "{msg}"),
    "src_pyd_finite_number": ("应为有限的数值", "{msg}"),
    "src_pyd_float_parsing": ("应为数值", "{msg}"),
    "src_pyd_float_type": ("应为数值", "{msg}"),
    "src_pyd_int_parsing": ("应为整数", "{msg}"),
    "src_pyd_int_type": ("应为整数", "{msg}"),
    "src_pyd_int_from_float": ("应为整数，不能带小数", "{msg}"),
    "src_pyd_bool_parsing": ("应为 true 或 false", "{msg}"),
    "src_pyd_bool_type": ("应为 true 或 false", "{msg}"),
    "src_pyd_string_type": ("应为文本", "{msg}"),
    "src_pyd_list_type": ("应为列表", "{msg}"),
    "src_pyd_dict_type": ("应为映射（键: 值）", "{msg}"),
    "src_pyd_model_type": ("应为映射（键: 值）", "{msg}"),
    "src_pyd_too_short": ("至少应有 {min_length} 项，实有 {actual_length} 项", "{msg}"),
    "src_pyd_string_too_long": ("最多 {max_length} 个字符", "{msg}"),
    "src_pyd_string_pattern_mismatch": ("格式不符：应符合“{pattern}”", "{msg}"),
    "src_pyd_literal_error": ("应为以下之一：{expected}", "{msg}"),
    "src_pyd_union_tag_invalid": (
        "键 {discriminator} 的值“{tag}”无效，应为以下之一：{expected_tags}",
        "{msg}",
    ),
    "src_pyd_union_tag_not_found": ("缺少键 {discriminator}（规则种类）", "{msg}"),
    "src_pyd_value_error": ("{error}", "{msg}"),
    "src_pyd_other": ("取值无效（pydantic：“{msg}”）", "{msg}"),
    "src_duplicate_category": ("类别编号“{id}”重复", "duplicate category id {id!r}"),
    "src_unknown_category": ("未知类别“{id}”", "unknown category {id!r}"),
    "src_duplicate_rule": ("规则编号“{id}”重复", "duplicate rule id {id!r}"),
    "src_unknown_category_expected": (
        "未知类别“{id}”；应为以下之一：{known}",
        "unknown category {id!r}; expected one of {known}",
    ),
    "src_unknown_speed_profile": (
        "未知的步行速度档“{id}”；应为以下之一：{known}",
        "unknown profile {id!r}; expected one of {known}",
    ),
    "src_unknown_of_rule": (
        "未知规则“{id}”；已有规则：{known}",
        "unknown rule {id!r}; known: {ids}",
    ),
    "src_of_rule_kind": (
        "规则“{id}”必须是按{over_zh}评判的步行可达（access）或单元配置（presence）规则",
        "rule {id!r} must be an access or presence rule per {over}",
    ),
    "src_households_unit": (
        "按户数计的规则需设 unit: community（户数按社区给出，来自社区文件）",
        "a rule per households needs unit: community (households are known per community, "
        "from the communities file)",
    ),
    "src_not_utf8_gbk": (
        "{path}：既不是 UTF-8 也不是 GBK/GB18030 编码的文本。请另存为 UTF-8 编码的 CSV 文件。",
        "{path}: neither UTF-8 nor GBK/GB18030 text. Save it as UTF-8 CSV.",
    ),
    "src_bad_crs": (
        "--crs “{crs}”：应为 wgs84（GPS/天地图/OSM）、gcj02（高德/腾讯）、bd09（百度）之一，"
        "或 EPSG 代码（如 EPSG:4490）。",
        "--crs {crs!r}: expected one of {datums} or an EPSG code like EPSG:4490.",
    ),
    "src_role_area": ("研究范围", "area"),
    "src_vector_unreadable": (
        "{path}：无法读取{what}文件（{error}）。请给出 GeoJSON、GeoPackage 或 Shapefile 文件。",
        "{path}: cannot read the {what} file ({error}). Give a GeoJSON, GeoPackage or Shapefile.",
    ),
    "src_vector_no_crs": (
        "{path}：{what}文件没有坐标系（CRS）；请保存时带上坐标系（如 EPSG:4326）。",
        "{path}: the {what} file has no CRS; save it with one (e.g. EPSG:4326).",
    ),
    "src_did_you_mean_any": ("是否指 {names}？", " Did you mean {names}?"),
    "src_no_division": (
        "--district “{query}”：全国行政区划中没有这个区、县或市。{hint}请给出其中文名称（西青区）、"
        "带所属城市的名称（天津市西青区）或 6 位区划代码（120111）；也可用 --area FILE "
        "给出自己的边界。",
        "--district {query!r}: no such district, county or city in China's administrative "
        "divisions.{hint} Give its Chinese name (西青区), with its city (天津市西青区) or its "
        "6-digit code (120111); or give your own boundary with --area FILE.",
    ),
    "src_division_choice": ("{parent}{name}（{code}）", "{parent}{name} ({code})"),
    "src_many_divisions": (
        "--district “{query}”对应 {n} 个行政区划：{choices}。请给出其中之一。",
        "--district {query!r} names {n} divisions: {choices}. Give one of these.",
    ),
    "src_osm_unreadable": (
        "{path}：无法读取此 OSM 文件（{error}）。文件可能不完整或已损坏；请重新下载或导出。",
        "{path}: cannot read this OSM file ({error}). It may be truncated or corrupt; download "
        "or export it again.",
    ),
    "src_osm_no_nodes": (
        "{path}：文件中没有任何 OSM 节点。是否导出了空文件？",
        "{path}: the file holds no OSM nodes. Is it an empty export?",
    ),
    "src_osm_not_found": (
        "{path}：找不到 OSM 文件。请检查 --osm 给出的路径。",
        "{path}: OSM file not found. Check the path given to --osm.",
    ),
    "src_osm_directory": (
        "{path}：这是一个文件夹，应为 OSM 数据文件（{suffixes}）。",
        "{path}: is a directory, expected an OSM file ({suffixes}).",
    ),
    "src_osm_file_type": (
        "{path}：不支持的文件类型；应为 {suffixes} 之一。可用 osmium-tool 转换，"
        "或从 openstreetmap.org 导出 .osm 文件。",
        "{path}: unsupported file type; expected one of {suffixes}. Convert it with "
        "osmium-tool or export .osm from openstreetmap.org.",
    ),
    "src_bad_bbox": (
        "--area “{text}”：应为以度为单位的 minlon,minlat,maxlon,maxlat（最小经度，最小纬度，"
        "最大经度，最大纬度），且最小值小于最大值（如 104.05,30.66,104.10,30.70）。",
        "--area {text!r}: expected minlon,minlat,maxlon,maxlat in degrees with min < max "
        "(e.g. 104.05,30.66,104.10,30.70).",
    ),
    "src_area_neither": (
        "--area “{text}”：既不是范围框（minlon,minlat,maxlon,maxlat），也不是存在的多边形文件。",
        "--area {text!r}: neither a bounding box (minlon,minlat,maxlon,maxlat) nor an existing "
        "polygon file.",
    ),
    "src_area_no_polygon": (
        "{path}：研究范围文件中没有多边形；应为研究范围的边界。",
        "{path}: the area file holds no polygon; expected the study area's boundary.",
    ),
    "src_file_changed": (
        "{path}：circles 使用该文件期间文件被修改；请重新运行。",
        "{path}: the file changed while circles was using it; run again.",
    ),
    "src_area_outside": (
        "研究范围 {area} 位于OSM数据文件“{file}”之外，该文件的数据覆盖 {bounds}"
        "（最小经度，最小纬度，最大经度，最大纬度）。请给出位于其中的研究范围。",
        "the study area {area} lies outside the extract {file}, whose data covers {bounds} "
        "(minlon, minlat, maxlon, maxlat). Give an area inside it.",
    ),
    "src_cache_extract": ("OSM数据", "extract"),
    "src_cache_ways": ("道路", "ways"),
    "src_cache_network": ("步行路网", "network"),
    "src_cache_other_entry": ("条目属于另一个键或格式", "entry of another key or format"),
    "src_cache_cannot_store": (
        "缓存中不能保存 {type} 类型的值",
        "cannot store {type} in the cache",
    ),
    "src_cache_unreadable": (
        "{kind}缓存：条目 {path} 无法读取（{error}）；将重新生成",
        "{kind} cache: unreadable entry {path} ({error}); rebuilding it",
    ),
    "src_cache_unwritable": (
        "{kind}缓存：无法写入 {path}（{error}）；本次运行不使用缓存",
        "{kind} cache: cannot write {path} ({error})",
    ),
    "src_opl_line": ("osmium 输出了无法解析的 OPL 行", "unexpected OPL line from osmium"),
    "src_opl_nodes": (
        "osmium 输出了无法解析的 OPL 节点列表",
        "unexpected OPL node list from osmium",
    ),
    "src_blank_header": ("第{n}列（无表头）", "Unnamed: {j}"),
    "src_cache_folder": (
        "{path}：circles 缓存条目的位置上有一个同名文件夹。请删除它，或将 CIRCLES_CACHE_DIR "
        "设为其他文件夹，或加 --no-cache 运行。",
        "{path}: a folder stands where a circles cache entry belongs. Remove it, or set "
        "CIRCLES_CACHE_DIR to another folder, or run with --no-cache.",
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
        "本次分析所用的标准“{profile}”中，{name}（“{category}”）没有步行可达规则，无法评分。"
        "有步行可达规则的类别：{judged}。需要评判该类别时，请用设有此类规则的标准重新分析"
        "（“circles analyze --standards …”）。",
        "category {category!r} ({name}) has no walking-access rule in the standards of this "
        "analysis ({profile}). Categories with one: {judged}. To judge it, analyse again with "
        "standards that have such a rule (circles analyze --standards ...).",
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
    # run: pipeline.py, batch.py, folders.py, cli.py (analyze, batch, map, serve),
    # access/state.py, model/network.py
    "run_district_and_area": (
        "--district 与 --area 只能给出其一，不能同时给出。",
        "give either --district or --area, not both.",
    ),
    "run_population_bad": (
        "--population {value}：应为研究范围的常住人口数，大于 0（例如第七次人口普查的 1250000）。",
        "--population {value}: expected the number of residents of the study area, above 0 "
        "(e.g. 1250000 from 第七次人口普查).",
    ),
    "run_several_districts": (
        "含 {n} 个区县边界；circles analyze 一次只分析一个区县（多个区县请用 circles batch）"
        "——请只保留一个，或只提供街道边界。",
        "{n} district polygons; circles analyze takes one district at a time (use circles "
        "batch for several) — keep one, or give streets only.",
    ),
    "run_buffer_bad": (
        "--buffer {value}：应为以米计的距离，不小于 0（例如 1000）。",
        "--buffer {value}: expected a distance in metres, 0 or more (e.g. 1000).",
    ),
    "run_authoritative_unknown": (
        "--authoritative “{text}”：未知的类别。{hint}",
        "--authoritative {text!r}: unknown category.{hint}",
    ),
    "run_did_you_mean": ("是否是指“{name}”？", " Did you mean {name!r}?"),
    "run_unknown_categories": (
        "未知的设施类别 {unknown}；类别应为编号，例如 {examples}",
        "unknown facility categories {unknown}; expected ids such as {examples}",
    ),
    "run_same_file": (
        "与“{other}”是同一文件：其中的设施只计一次",
        "the same file as {other}: its facilities are counted once",
    ),
    "run_repeated_file": (
        "{n} 处设施与前面已给出的记录重复（类别、名称和位置均相同），只计一次"
        "——请检查文件中的重复记录",
        "{n} facilities repeat records given earlier (same category, name and place); counted "
        "once — check the file for duplicates",
    ),
    "run_repeated_table": (
        "{n} 处设施与前面已给出的记录重复（类别、名称和位置均相同），只计一次"
        "——请检查表中的重复记录",
        "{n} facilities repeat records given earlier (same category, name and place); counted "
        "once — check the table for duplicates",
    ),
    "run_no_homes": (
        "OSM数据文件“{file}”的研究范围内既没有居住用地（landuse=residential），也没有住宅建筑；"
        "circles 需要住宅才能放置居民。请给出更大的 --area，"
        "或用 --communities FILE 提供自己的社区。",
        "no residential area (landuse=residential) and no residential building in the study "
        "area of {file}; circles needs homes to place residents. Give a larger --area, or your "
        "own communities with --communities FILE.",
    ),
    "run_no_communities_in_area": (
        "“{file}”的 {n} 个社区都不在研究范围 {bounds} 内；请检查该文件和 --area。",
        "none of the {n} communities of {file} lies in the study area {bounds}; check the "
        "file and --area.",
    ),
    "run_communities_outside": (
        "{n} 个社区位于研究范围之外，已略去",
        "{n} communities lie outside the study area and were left out",
    ),
    "run_population_far": (
        "{where} 是研究范围内已放置人口（{estimate:,.0f}）的 {ratio:.3g} 倍，偏大或偏小超过 "
        "{limit:g} 倍。请核实该数字是否对应本研究范围（--area/--district）。",
        "{where} is {ratio:.3g} times the population placed in the study area "
        "({estimate:,.0f}); more than {limit:g} times away either way. Check that the number "
        "is for this study area (--area/--district).",
    ),
    "run_population_off": (
        "为研究范围内已放置人口（{estimate:,.0f}）的 {ratio:.3g} 倍；"
        "请核实该数字是否对应本研究范围",
        "{ratio:.3g} times the population placed in the study area ({estimate:,.0f}); check "
        "that the number is for this study area",
    ),
    "run_calibrated_streets": (
        "边界文件的{column}（{n} 个街道）",
        "boundaries {column} ({n} streets)",
    ),
    "run_edge_reason": (
        "边缘（未评估）：位于OSM数据文件边缘的缓冲区内，文件范围外的设施未知",
        "边缘（未评估）: within the buffer of the extract's edge, where facilities beyond the "
        "extract are unknown",
    ),
    "run_no_walkable": (
        "OSM数据文件“{file}”的研究范围内没有可步行的道路：范围内有 {segments} 段道路，均不可步行。"
        "请检查 --area，或确认该文件包含道路（highway）。",
        "no walkable street in the study area of {file}: {segments} way segments lie inside "
        "it, none walkable. Check --area, or that the extract holds highways.",
    ),
    "run_state_unreadable": (
        "{path}：无法读取保存的分析结果（{reason}）。请重新运行 circles analyze。",
        "{path}: cannot read the saved analysis ({reason}). Run `circles analyze` again.",
    ),
    "run_state_format": (
        "{path}：其中为{found}；当前版本的 circles 读取第 {version} 版格式的 {file}。"
        "请重新运行 circles analyze 写出该文件。",
        "{path}: holds {found}; this circles reads {file} format {version}. Run `circles "
        "analyze` again to write it.",
    ),
    "run_state_old": ("第 1 版格式（较早版本的 circles）", "format 1 (an older circles)"),
    "run_state_none": ("非 circles 保存的数据", "no circles state"),
    "run_state_version": ("第 {version} 版格式", "format {version}"),
    "run_state_incomplete": (
        "{path}：保存的分析结果不完整（{reason}）。请重新运行 circles analyze。",
        "{path}: the saved analysis is incomplete ({reason}). Run `circles analyze` again.",
    ),
    "run_folder_locked": (
        "{folder}：另一个 circles 进程正在写入该文件夹；请等它结束。",
        "{folder}: another circles run is writing this folder; wait for it to finish.",
    ),
    "run_overwrite_input": (
        "{target}：该输出会覆盖一个输入文件。请另选 --out。",
        "{target}: this output would overwrite an input file. Choose another --out.",
    ),
    "run_folder_name_long": (
        "{path}：文件夹名长 {n} 字节；文件系统最多允许 {limit} 字节。请选用更短的 --out。",
        "{path}: the folder name is {n} bytes long; file systems allow {limit}. Choose a "
        "shorter --out.",
    ),
    "run_cannot_create_out": (
        "{folder}：无法创建输出文件夹（{reason}）。请另选 --out。",
        "{folder}: cannot create the output folder ({reason}). Choose another --out.",
    ),
    "run_exists_not_folder": (
        "{folder}：已存在且不是文件夹。请另选 --out。",
        "{folder}: exists and is not a folder. Choose another --out.",
    ),
    "run_not_writable": (
        "{folder}：没有写入权限。请另选 --out。",
        "{folder}: not writable. Choose another --out.",
    ),
    "run_disk_full": (
        "{folder}：磁盘已满；未做任何改动（之前的结果仍保留）。请腾出空间后重新运行。",
        "{folder}: the disk is full; nothing was changed (an earlier result is kept). Free "
        "some space and run again.",
    ),
    "run_cannot_write": (
        "{folder}：无法写入（{reason}）；未做任何改动。请另选 --out。",
        "{folder}: cannot write ({reason}); nothing was changed. Choose another --out.",
    ),
    "run_write_again": ("请重新运行写出它的命令。", "Run the command that wrote it again."),
    "run_no_manifest": (
        "{folder}：没有有效的 {manifest}：不是完整的 circles 结果文件夹。{again}",
        "{folder}: no valid {manifest}: not a complete circles result folder. {again}",
    ),
    "run_not_in_folder": (
        "{folder}：{name} 不属于该结果文件夹。{again}",
        "{folder}: {name} is not part of this result folder. {again}",
    ),
    "run_file_missing": (
        "{folder}：缺少 {name}，文件夹不完整。{again}",
        "{folder}: {name} is missing: the folder is incomplete. {again}",
    ),
    "run_file_differs": (
        "{folder}：{name} 与写入时的内容不一致。{again}",
        "{folder}: {name} differs from what was written with it. {again}",
    ),
    "run_name_too_long": (
        "{path}：名称长 {n} 字节；文件系统最多允许 255 字节。请使用更短的文件名或文件夹名。",
        "{path}: the name is {n} bytes long; file systems allow 255. Give a shorter file or "
        "folder name.",
    ),
    "run_workers_with_scheduler": (
        "--workers 用于设置本机集群；给出 --scheduler 时由该集群决定",
        "--workers sets the local cluster; with --scheduler the cluster decides",
    ),
    "run_districts_clash": (
        "--districts {text}：有区县重复给出，或输出文件夹名相同：{clashes}。每个区县只给一次，"
        "名称各不相同。",
        "--districts {text}: districts given twice or sharing an output folder name: "
        "{clashes}. Give each district once, with a distinct name.",
    ),
    "run_clash": ("“{first}”与“{second}” → “{slug}”", "{first!r} and {second!r} -> {slug!r}"),
    "run_districts_option": ("--districts ", "--districts: "),  # for --district in a batch
    "run_districts_file": ("--districts FILE", "a polygon file as --districts"),  # --area FILE
    "run_districts_empty_text": (
        "--districts：请给出面文件，或区县名称/代码，例如 西青区,南开区。",
        "--districts: give a polygon file or district names/codes, e.g. 西青区,南开区.",
    ),
    "run_no_name_column": (
        "没有可为区县及其输出文件夹命名的名称列（名称/name/区）或编号列；请用 ::name=COLUMN 指定。"
        "现有列：{columns}。",
        "no name column (名称/name/区) or id column to name the districts and their output "
        "folders; give ::name=COLUMN. Columns: {columns}.",
    ),
    "run_district_name_missing": ("缺少区县名称。", "district name missing."),
    "run_name_no_folder": (
        "名称“{name}”无法生成可用的文件夹名。",
        "name {name!r} gives no usable folder name.",
    ),
    "run_population_one_total": (
        "--population {value}：{n} 个区县只给了一个总数；只有一个区县时才能给数字，否则请给出"
        "列有各区县人口的文件（名称/name 列和常住人口/population 列），"
        "例如 --population 人口.csv。",
        "--population {value}: one total for {n} districts; give a number only with a single "
        "district, or a file with each district's population (columns 名称/name and "
        "常住人口/population), e.g. --population 人口.csv.",
    ),
    "run_population_columns": (
        "--population：应有区县名称列（名称/name/区）和人口列（常住人口/人口/population）；"
        "现有列：{columns}。",
        "--population: expected a district name column (名称/name/区) and a population column "
        "(常住人口/人口/population); columns are {columns}.",
    ),
    "run_population_missing": (
        "{file}：没有 {names} 的人口；请为每个区县给出一行。",
        "{file}: no population for {names}; give every district a row.",
    ),
    "run_name_sep": ("、", ", "),
    "run_osm_not_found": ("{file}：找不到OSM数据文件。", "{file}: OSM file not found."),
    "run_osm_unreadable": (
        "{file}：无法读取OSM数据文件（{reason}）。",
        "{file}: cannot read the OSM file ({reason}).",
    ),
    "run_lang_bad": ("--lang “{lang}”：应为 zh 或 en。", "lang {lang!r}: expected zh or en."),
    "run_batch_district_polygons": (
        "含多个区县边界；批量分析的区县由 --districts 给出："
        "此处只需提供街道边界（::level=street）。",
        "several district polygons; in a batch the districts come from --districts: give "
        "streets only here (::level=street).",
    ),
    "run_scheduler_unreachable": (
        "--scheduler {address}：无法连接（{reason}）。请用 dask scheduler 启动调度器并给出其地址，"
        "例如 tcp://10.0.0.5:8786。",
        "--scheduler {address}: cannot connect ({reason}). Start it with `dask scheduler` and "
        "give its address, e.g. tcp://10.0.0.5:8786.",
    ),
    "run_workers_bad": ("--workers {n}：至少应为 1。", "workers {n}: expected at least 1."),
    "run_no_districts": ("--districts：没有给出区县。", "--districts: no districts given."),
    "run_out_not_folder": (
        "{folder}：不是文件夹。请另选 --out。",
        "{folder}: not a folder. Choose another --out.",
    ),
    "run_attempt_failed": (
        "{name}：第 {attempt} 次尝试（共 {attempts} 次）失败：{error}",
        "{name}: attempt {attempt} of {attempts} failed: {error}",
    ),
    "run_cannot_move": (
        "无法将结果移入 {folder}：{reason}",
        "cannot move the result into {folder}: {reason}",
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

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

// xiaming page: calls the JSON API of `xiaming serve` and shows what it answers. No build step,
// no external resources; every text the page writes goes through textContent (never innerHTML).
"use strict";
(() => {
  const I18N = {
    zh: {
      tagline: "一个字一个字写出新名字的神经网络", tab_generate: "起名", tab_score: "评分", tab_who: "像谁",
      tab_quiz: "猜作者", model: "模型", style: "风格混合", style_none: "不混合", surname: "姓氏 / 开头",
      count: "数量", min_len: "最短（字）", max_len: "最长（字）", include: "必含其一", exclude: "不用的字",
      mode: "方式", mode_sample: "随机抽样", mode_best: "最可能的（搜索）", more: "更多选项", temperature: "温度",
      temperature_note: "低：稳妥常见；高：新奇大胆；0：只取最可能的一个", novelty: "新颖规则",
      novelty_default: "默认", novelty_strict: "严格（不像任何原名）", novelty_exact: "只排除原名", novelty_off: "不过滤",
      seed: "随机种子", word_lean: "词语倾向", word_lean_note: "名多成词：寻欢、吹雪（1 为不用）", charset: "只用这些字（留空不限）", rank: "按可能性排序", generate: "起名", names: "名字", copy: "复制", copied: "已复制",
      empty: "填好条件，点“起名”。点一个名字看每个字的概率。", score_names: "要评分的名字（每行一个）", score: "评分",
      who_names: "名字（每行一个）：更像哪位作者笔下的人物？", who: "看看像谁",
      quiz_intro: "这个名字出自哪里？", quiz_score: "得分", quiz_next: "下一题",
      footer: "模型运行在你自己的电脑上，不联网。", working: "正在生成…", scoring: "正在评分…",
      found: "{found} 个新名字 · 模型 {model} · 新颖规则 {novelty}", short: "只找到 {found} / {requested} 个：{reason}",
      none: "没有找到名字：{reason}", percentile: "胜过 {p}% 的原名", bits: "{b} 比特/字",
      log_prob: "对数概率", bits_per_char: "每字比特", pct_label: "百分位", end: "（结束）", unknown: "模型没见过这个字",
      char_probs: "每个字的概率（给定前面的字）", offline: "连不上服务器：它还在运行吗？",
      no_names: "请至少写一个名字", models_note: "{kind} · {count} 个训练名字", base_note: "{kind} · 基础模型",
      who_title: "像谁笔下的人物", inside: "模型内部", style_weight: "另一种风格的比重",
      quiz_mode: "玩法", quiz_styles: "作者", quiz_author: "猜作者：这几个名字像谁的风格？", quiz_real: "辨真假：哪个是书里的真名字？",
      quiz_pick_author: "这些名字是模仿谁的风格编的？", quiz_pick_real: "哪一个是书里真有的名字？",
      quiz_right: "答对了！", quiz_wrong: "不对，答案是 {answer}。", quiz_who: "模型的判断：{who}",
      quiz_loading: "出题中…", pulls: "倾向{style}的字：{chars}", nv_strict: "严格", nv_exact: "仅排除原名", nv_off: "不过滤",
      mixed: "混合风格", inside_note: "每一步：这个字排第几、模型原本更想写哪些字", step_rank: "第 {r}",
      alts: "更可能：", gates_title: "LSTM 的门（每列一个单元，每行读入一个字）", input_gate: "输入门",
      forget_gate: "遗忘门", output_gate: "输出门", cell: "细胞状态", units_title: "会“数数”的单元",
      unit_line: "{state}单元 {unit}：{feature}（r = {r}）", f_position: "读到第几个字",
      "f_surname boundary": "姓氏刚读完", "f_given name": "正在写名", s_hidden: "隐藏", s_cell: "细胞", start: "起",
      gender: "性别", gender_any: "不限", gender_female: "女", gender_male: "男", tab_verse: "诗词起名",
      kind: "种类", kind_name: "人名", kind_epithet: "绰号（南海鳄神）",
      verse_surname: "姓氏（留空随机）", verse_book: "出自", verse_all: "全部", verse: "从诗词里起名",
      verse_empty: "名字取自诗词的同一句，按像不像真名排序。", verse_found: "{found} 个名字 · 姓 {surname} · 模型 {model}",
      verse_short: "只找到 {found} / {requested} 个：{reason}",
    },
    en: {
      tagline: "a neural network that writes new names one character at a time", tab_generate: "Generate",
      tab_score: "Score", tab_who: "Whose style", tab_quiz: "Quiz", model: "Model", style: "Style mix",
      style_none: "no mixing", surname: "Surname / start", count: "How many", min_len: "Shortest (chars)",
      max_len: "Longest (chars)", include: "Include one of", exclude: "Avoid characters", mode: "Mode",
      mode_sample: "sample", mode_best: "most likely (search)", more: "More options", temperature: "Temperature",
      temperature_note: "low: safe and common; high: bold and strange; 0: only the single likeliest",
      novelty: "Novelty rule", novelty_default: "default", novelty_strict: "strict (unlike any real name)",
      novelty_exact: "only drop real names", novelty_off: "off", seed: "Seed", word_lean: "Word lean",
      word_lean_note: "given names that are words: 寻欢, 吹雪 (1: off)", charset: "Only these characters (empty: any)", rank: "most likely first",
      generate: "Generate", names: "Names", copy: "Copy", copied: "Copied",
      empty: "Set the options and press Generate. Click a name to see each character's probability.",
      score_names: "Names to score (one per line)", score: "Score",
      who_names: "Names (one per line): whose characters do they sound like?", who: "Ask",
      quiz_intro: "Where does this name come from?", quiz_score: "Score", quiz_next: "Next",
      footer: "The models run on your own machine; nothing goes online.", working: "Generating…", scoring: "Scoring…",
      found: "{found} new names · model {model} · novelty {novelty}", short: "Found only {found} of {requested}: {reason}",
      none: "No names found: {reason}", percentile: "above {p}% of real names", bits: "{b} bits/char",
      log_prob: "log p", bits_per_char: "bits per char", pct_label: "percentile", end: "(end)",
      unknown: "a character the model has never seen", char_probs: "Each character's probability (given the ones before)",
      offline: "Cannot reach the server: is it still running?", no_names: "Write at least one name",
      models_note: "{kind} · {count} training names", base_note: "{kind} · base model",
      who_title: "Whose characters it sounds like", inside: "Inside the model", style_weight: "Weight of the other style",
      quiz_mode: "Game", quiz_styles: "Authors", quiz_author: "Author: whose style are these names in?", quiz_real: "Real or invented: which name is in the books?",
      quiz_pick_author: "These names were invented in whose style?", quiz_pick_real: "Which name really appears in the books?",
      quiz_right: "Right!", quiz_wrong: "Not quite: the answer is {answer}.", quiz_who: "What the model thinks: {who}",
      quiz_loading: "Making a question…", pulls: "towards {style}: {chars}", nv_strict: "strict", nv_exact: "exact", nv_off: "off",
      mixed: "mixed styles", inside_note: "At each step: the character's rank, and what the model would rather have written",
      step_rank: "#{r}", alts: "likelier: ", gates_title: "The LSTM's gates (a column per unit, a row per character read)",
      input_gate: "input gate", forget_gate: "forget gate", output_gate: "output gate", cell: "cell state",
      units_title: "Units that keep count", unit_line: "{state} unit {unit}: {feature} (r = {r})",
      f_position: "how many characters read", "f_surname boundary": "the surname just ended",
      "f_given name": "inside the given name", s_hidden: "hidden", s_cell: "cell", start: "start",
      gender: "Gender", gender_any: "any", gender_female: "female", gender_male: "male", tab_verse: "From verse",
      kind: "Kind", kind_name: "personal names", kind_epithet: "epithets (南海鳄神)",
      verse_surname: "Surname (empty: any)", verse_book: "From", verse_all: "all books", verse: "Names from verse",
      verse_empty: "Given names taken from one line of a poem, ranked by how real they read as names.",
      verse_found: "{found} names · surname {surname} · model {model}", verse_short: "Found only {found} of {requested}: {reason}",
    },
  };

  const STYLE_LABELS = {
    zh: { jinyong: "金庸", gulong: "古龙", liangyusheng: "梁羽生", poets: "唐宋诗人", base: "历代人名" },
    en: { jinyong: "Jin Yong", gulong: "Gu Long", liangyusheng: "Liang Yusheng", poets: "Tang-Song poets", base: "historical names" },
  };
  const MODEL_LABELS = {
    zh: { jinyong: "金庸笔下人物", gulong: "古龙笔下人物", liangyusheng: "梁羽生笔下人物", poets: "唐宋诗人",
          base: "历代人名（基础模型）" },
    en: { jinyong: "Jin Yong's characters", gulong: "Gu Long's characters", liangyusheng: "Liang Yusheng's characters",
          poets: "Tang-Song poets", base: "historical names (base)" },
  };
  const $ = (id) => document.getElementById(id);
  const END = "(end)";  // the end of a name where the API gives a character (explain steps, who evidence)
  const charText = (c) => (c === END ? t("end") : c);
  const styleLabel = (name) => STYLE_LABELS[lang][name] || name;
  const state = { info: null, names: [], scored: new Map(), mode: "generate", quiz: { right: 0, asked: 0 },
                  features: new Set() };
  let lang = localStorage.getItem("xiaming.lang") || ((navigator.language || "").startsWith("zh") ? "zh" : "en");

  function t(key, vars = {}) {
    const text = (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : ""));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
    document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
    $("lang").textContent = lang === "zh" ? "EN" : "中文";
    if (state.info) { fillModels(); fillStyleChoices(); fillQuizStyles(); }
    describeModel();
    if (state.names.length) renderNames($("results"), state.names);
    if (state.lastStatus) setStatus(...state.lastStatus);
    if (state.detail) showDetail(state.detail);
  }

  async function api(path, body) {
    let res;
    try {
      res = await fetch(path, body === undefined ? {} : {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
    } catch (err) {
      throw new Error(t("offline"));
    }
    let data = null;
    try { data = await res.json(); } catch (err) { /* not JSON: fall through to the status line */ }
    if (!res.ok) {
      const error = new Error((data && typeof data.detail === "string" && data.detail) || `${res.status} ${res.statusText}`);
      Object.assign(error, data && typeof data.field === "string" ? data : {});  // field, value, reason, refs
      throw error;
    }
    return data;
  }

  function fieldControl(field) {
    // the control of the visible panel that sets a request field: its name, or its data-field
    const panel = document.querySelector(".panel:not([hidden])") || document;
    return panel.querySelector(`[name="${field}"], [data-field="${field}"]`);
  }

  function fieldLabel(field) {
    // a request field in the page's words: the label of its control (the field's own name without one)
    const control = fieldControl(field);
    const words = control && control.closest("label") && control.closest("label").querySelector("[data-i18n]");
    return words ? `“${words.textContent.trim()}”` : field;
  }

  function errorText(err) {
    // the server names the field at fault and the fields its reason mentions; the page writes each as its label
    if (!err.field || typeof err.reason !== "string") return err.message;
    const reason = (err.refs || []).reduce((text, f) => text.split(`{${f}}`).join(fieldLabel(f)), err.reason);
    return `${fieldLabel(err.field)}${err.value === undefined ? "" : ` ${err.value}`}: ${reason}`;
  }

  function showError(error) {
    document.querySelectorAll("[aria-invalid]").forEach((control) => control.removeAttribute("aria-invalid"));
    const message = error instanceof Error ? errorText(error) : error;
    $("error").textContent = message || "";
    $("error").hidden = !message;
    const control = error instanceof Error && error.field ? fieldControl(error.field) : null;
    if (control) control.setAttribute("aria-invalid", "true");
  }

  function setStatus(key, vars) {
    state.lastStatus = [key, vars];
    $("status").textContent = t(key, vars);
  }

  function value(id) { return $(id).value.trim(); }
  function number(id) { const v = value(id); return v === "" ? undefined : Number(v); }

  function generateRequest() {
    const body = { model: $("model").value || undefined, prefix: value("surname"), include: value("include"),
                   exclude: value("exclude"), n: number("n"), min_len: number("min_len"), max_len: number("max_len"),
                   novelty: $("novelty").value || undefined, charset: value("charset") || undefined,
                   gender: $("gender").value || undefined };
    const best = document.querySelector('input[name="mode"]:checked').value === "best";
    const style = currentStyle();
    if (style && !best) {
      delete body.model;
      body.style = style;
    }
    if (!best) {
      Object.assign(body, { temperature: Number($("temperature").value), top_k: number("top_k"),
                            top_p: number("top_p"), min_p: number("min_p"), word_lean: number("word_lean"), seed: number("seed"),
                            rank: $("rank").checked, kind: $("kind").value });
    }
    return { path: best ? "/api/best" : "/api/generate", body };
  }

  function currentStyle() {
    // the page's style mix: the chosen model and one other, by the slider's weight
    const other = $("style-with").value;
    if (!other || other === $("model").value) return null;
    const w = Number($("style-weight").value) / 100;
    return { [$("model").value]: Number((1 - w).toFixed(2)), [other]: Number(w.toFixed(2)) };
  }

  function pct(p) { return p === null || p === undefined ? "–" : Math.round(p); }

  function renderNames(list, rows) {
    list.replaceChildren();
    rows.forEach((row) => {
      const li = el("li");
      li.tabIndex = 0;
      li.dataset.name = row.name;
      li.append(el("div", "name-text", row.name), el("div", "pinyin", row.pinyin || ""));
      const meter = el("div", "meter");
      const fill = el("i");
      fill.style.width = `${row.percentile ?? 0}%`;
      meter.append(fill);
      const line = el("div", "score-line");
      line.append(el("span", null, row.percentile === null ? "" : t("percentile", { p: pct(row.percentile) })),
                  el("span", "bits", t("bits", { b: row.bits_per_char.toFixed(2) })));
      li.append(meter, line);
      if (state.detail && state.detail.name === row.name) li.classList.add("selected");
      const open = () => selectName(row.name, list);
      li.addEventListener("click", open);
      li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
      list.append(li);
    });
  }

  function probText(p) {
    if (p >= 0.01) return `${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`;
    if (p <= 0) return "0";
    const one = Math.round(1 / p);
    return `1/${one.toLocaleString(lang === "zh" ? "zh-CN" : "en-US")}`;
  }

  function barWidth(p) {
    // log scale from one in a million to certain: the small probabilities of Chinese names stay visible
    return Math.max(0, Math.min(100, ((Math.log10(Math.max(p, 1e-6)) + 6) / 6) * 100));
  }

  function charRow(glyph, p, extraClass, title) {
    const row = el("div", `char-row ${extraClass || ""}`);
    if (title) row.title = title;
    const bar = el("div", "bar");
    const fill = el("i");
    fill.style.width = `${barWidth(p)}%`;
    bar.append(fill);
    row.append(el("span", "glyph", glyph), bar, el("span", "p", probText(p)));
    return row;
  }

  function showDetail(scored) {
    if (!state.detail || state.detail.name !== scored.name) { state.detailWho = null; state.detailInside = null; }
    state.detail = scored;
    const body = $("detail-body");
    body.replaceChildren();
    body.append(el("h3", null, scored.name), el("div", "pinyin", scored.pinyin || ""));
    const dl = el("dl");
    const facts = [[t("log_prob"), scored.log_prob.toFixed(2)], [t("bits_per_char"), scored.bits_per_char.toFixed(2)]];
    if (scored.percentile !== null) facts.push([t("pct_label"), t("percentile", { p: pct(scored.percentile) })]);
    facts.forEach(([k, v]) => dl.append(el("dt", null, k), el("dd", null, v)));
    body.append(dl, el("p", "note", t("char_probs")));
    const chars = el("div", "chars");
    scored.chars.forEach((c) => chars.append(charRow(c.char, c.p, c.known ? "" : "unknown", c.known ? "" : t("unknown"))));
    chars.append(charRow(t("end"), scored.end_p, "end"));
    body.append(chars);
    if (state.detailWho && state.detailWho.name === scored.name) showWho(state.detailWho);
    if (state.detailInside && state.detailInside.name === scored.name) showInside(state.detailInside);
    $("detail").hidden = false;
  }

  async function selectName(name, list) {
    list.querySelectorAll("li").forEach((li) => li.classList.toggle("selected", li.dataset.name === name));
    const style = list.id === "results" ? state.lastStyle : null;
    const key = `${JSON.stringify(style) || $("model").value}\u0000${name}`;
    try {
      showError("");
      if (!state.scored.has(key)) {
        const body = style ? { style, names: [name] } : { model: $("model").value || undefined, names: [name] };
        const data = await api("/api/score", body);
        state.scored.set(key, data.names[0]);
      }
      showDetail(state.scored.get(key));
      if (window.matchMedia("(max-width: 1099px)").matches) $("detail").scrollIntoView({ behavior: "smooth", block: "start" });
      if (state.features.has("who")) {
        const who = await api("/api/who", { names: [name] });
        if (state.detail && state.detail.name === name) {
          state.detailWho = who.names[0];
          showWho(who.names[0]);
        }
      }
      if (state.features.has("explain")) {
        const body = style ? { style, name } : { model: $("model").value || undefined, name };
        const inside = await api("/api/explain", body);
        if (state.detail && state.detail.name === name) {
          state.detailInside = inside;
          showInside(inside);
        }
      }
    } catch (err) {
      showError(err);
    }
  }

  function styleBars(attribution) {
    // one bar per style, likeliest first, and the characters pulling towards each
    const box = el("div", "style-bars");
    Object.entries(attribution.probs).sort((a, b) => b[1] - a[1]).forEach(([style, p]) => {
      const row = el("div", "style-row");
      const bar = el("div", "bar");
      const fill = el("i");
      fill.style.width = `${(p * 100).toFixed(1)}%`;
      bar.append(fill);
      row.append(el("span", "style-name", styleLabel(style)), bar, el("span", "p", `${Math.round(p * 100)}%`));
      box.append(row);
    });
    const pulls = {};
    attribution.evidence.forEach((e) => {
      if (e.char === END) return;
      const [style, v] = Object.entries(e.pull).sort((a, b) => b[1] - a[1])[0];
      if (v > 0.05) (pulls[style] = pulls[style] || []).push([e.char, v]);
    });
    Object.entries(pulls).forEach(([style, chars]) => {
      const text = chars.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([c, v]) => `${c} +${v.toFixed(1)}`).join("  ");
      box.append(el("p", "note", t("pulls", { style: styleLabel(style), chars: text })));
    });
    return box;
  }

  function heatmap(rows, signed) {
    // a canvas: one row per step, one column per unit; gates 0..1 light to dark, the cell blue/red around 0
    const canvas = el("canvas", "heat");
    const units = rows[0].length;
    canvas.width = units;
    canvas.height = rows.length;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(units, rows.length);
    const scale = signed ? Math.max(1e-6, ...rows.flat().map(Math.abs)) : 1;
    rows.forEach((row, y) => row.forEach((v, x) => {
      const i = 4 * (y * units + x);
      let rgb;
      if (signed) {
        const a = Math.min(1, Math.abs(v) / scale);
        rgb = v >= 0 ? [255 - 92 * a, 255 - 207 * a, 255 - 213 * a] : [255 - 205 * a, 255 - 160 * a, 255 - 80 * a];
      } else {
        const a = Math.min(1, Math.max(0, v));
        rgb = [255 - 92 * a, 253 - 205 * a, 248 - 206 * a];
      }
      image.data.set([...rgb.map(Math.round), 255], i);
    }));
    ctx.putImageData(image, 0, 0);
    canvas.style.height = `${rows.length * 12}px`;
    return canvas;
  }

  function showInside(e) {
    const body = $("detail-body");
    body.querySelectorAll(".extra.inside").forEach((node) => node.remove());
    const extra = el("div", "extra inside");
    extra.append(el("h4", null, t("inside")), el("p", "note", t("inside_note")));
    const steps = el("div", "steps");
    e.steps.forEach((s) => {
      const row = el("div", "step");
      row.append(el("span", s.char === END ? "glyph end" : "glyph", charText(s.char)), el("span", "rank", t("step_rank", { r: s.rank })));
      const better = s.top.filter((a) => a.char !== s.char && a.p > s.p).slice(0, 3);
      const alts = el("span", "alts", better.length ? t("alts") + better.map((a) => `${charText(a.char)} ${probText(a.p)}`).join(" · ") : "✓");
      row.append(alts);
      steps.append(row);
    });
    extra.append(steps);
    if (e.gates) {
      extra.append(el("h4", null, t("gates_title")));
      ["input_gate", "forget_gate", "output_gate", "cell"].forEach((g) => {
        const block = el("div", "gate");
        const labels = el("div", "gate-rows");
        e.inputs.forEach((c) => labels.append(el("span", null, c === "^" ? t("start") : c)));
        const figure = el("div", "gate-figure");
        figure.append(labels, heatmap(e.gates[g], g === "cell"));
        block.append(el("div", "note", t(g)), figure);
        extra.append(block);
      });
    }
    if (e.units && e.units.length) {
      extra.append(el("h4", null, t("units_title")));
      e.units.forEach((u) => {
        const line = el("p", "unit");
        line.append(el("span", null, t("unit_line", { state: t(`s_${u.state}`), unit: u.unit, feature: t(`f_${u.feature}`),
                                                      r: u.r.toFixed(2) })));
        const values = el("span", "unit-values");
        u.values.forEach((v, i) => values.append(el("span", null, `${e.inputs[i] === "^" ? t("start") : e.inputs[i]} ${v.toFixed(2)}`)));
        line.append(values);
        extra.append(line);
      });
    }
    body.append(extra);
  }

  function showWho(attribution) {
    const body = $("detail-body");
    body.querySelectorAll(".extra.who").forEach((node) => node.remove());
    const extra = el("div", "extra who");
    extra.append(el("h4", null, t("who_title")), styleBars(attribution));
    body.insertBefore(extra, body.querySelector(".extra.inside"));
  }

  async function generate(event) {
    event.preventDefault();
    const button = $("generate");
    const { path, body } = generateRequest();
    button.disabled = true;
    button.classList.add("busy");
    button.textContent = t("working");
    showError("");
    try {
      const data = await api(path, body);
      state.lastStyle = body.style || null;
      state.names = data.names;
      renderNames($("results"), data.names);
      const vars = { found: data.found, requested: data.requested, reason: data.reason,
                     model: body.style ? t("mixed") : data.model, novelty: t(`nv_${data.novelty}`) };
      setStatus(data.found === 0 ? "none" : data.exhausted ? "short" : "found", vars);
      ["copy", "download-txt", "download-csv"].forEach((id) => { $(id).disabled = data.found === 0; });
      if (window.matchMedia("(max-width: 759px)").matches) $("status").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
      button.classList.remove("busy");
      button.textContent = t("generate");
    }
  }

  async function score(event) {
    event.preventDefault();
    const names = $("score-names").value.split(/\n/).map((s) => s.trim()).filter(Boolean);
    showError("");
    if (!names.length) { showError(t("no_names")); return; }
    try {
      const data = await api("/api/score", { model: $("model").value || undefined, names });
      data.names.forEach((row) => state.scored.set(`${$("model").value}\u0000${row.name}`, row));
      renderNames($("score-results"), data.names);
      if (data.names.length) showDetail(data.names[0]);
    } catch (err) {
      showError(err);
    }
  }

  function markedLine(marked) {
    // the line with the name's characters, given in 【】 by the server, as <mark>s
    const line = el("div", "verse-line");
    marked.split(/(【[^】]*】)/).filter(Boolean).forEach((part) => {
      line.append(part.startsWith("【") ? el("mark", null, part.slice(1, -1)) : document.createTextNode(part));
    });
    return line;
  }

  async function verseTab(event) {
    event.preventDefault();
    const button = $("verse");
    const body = { model: $("model").value || undefined, surname: value("verse-surname") || undefined,
                   books: $("verse-book").value ? [$("verse-book").value] : undefined,
                   gender: $("verse-gender").value || undefined, n: 10 };
    button.disabled = true;
    showError("");
    try {
      const data = await api("/api/verse", body);
      const list = $("verse-results");
      list.replaceChildren();
      data.names.forEach((row) => {
        const li = el("li");
        const source = `《${row.title}》${row.author ? ` ${row.author}` : ""} · ${row.book}` +
                       (row.section && row.section !== row.title ? `·${row.section}` : "");
        li.append(el("div", "name-text", row.name), el("div", "pinyin", row.pinyin), markedLine(row.marked),
                  el("div", "note source", source));
        list.append(li);
      });
      $("verse-status").textContent = t(data.exhausted ? "verse_short" : "verse_found",
        { found: data.found, requested: data.requested, reason: data.reason, surname: data.surname, model: data.model });
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  }

  async function whoTab(event) {
    event.preventDefault();
    const names = $("who-names").value.split(/\n/).map((x) => x.trim()).filter(Boolean);
    showError("");
    if (!names.length) { showError(t("no_names")); return; }
    try {
      const data = await api("/api/who", { names });
      const box = $("who-results");
      box.replaceChildren();
      data.names.forEach((a) => {
        const card = el("div", "who-card");
        card.append(el("div", "name-text", a.name), el("div", "pinyin", a.pinyin || ""), styleBars(a));
        box.append(card);
      });
    } catch (err) {
      showError(err);
    }
  }

  async function nextRound() {
    const mode = $("quiz-mode").value;
    $("quiz-feedback").textContent = t("quiz_loading");
    $("quiz-choices").replaceChildren();
    $("quiz-names").replaceChildren();
    showError("");
    try {
      const models = $("quiz-styles").value ? $("quiz-styles").value.split(",") : undefined;
      const data = await api("/api/quiz", { mode, rounds: 1, models });
      const round = data.rounds[0];
      state.quiz.round = { ...round, mode };
      $("quiz-feedback").textContent = t(mode === "author" ? "quiz_pick_author" : "quiz_pick_real");
      if (mode === "author") {
        round.names.forEach((name, i) => {
          const item = el("div", "quiz-name");
          item.append(el("span", "name-text", name), el("span", "pinyin", round.pinyin[i] || ""));
          $("quiz-names").append(item);
        });
      }
      round.choices.forEach((choice, i) => {
        const button = el("button", null, mode === "author" ? styleLabel(choice) : choice);
        button.type = "button";
        if (mode === "real") button.classList.add("name-choice");
        button.addEventListener("click", () => answer(i));
        $("quiz-choices").append(button);
      });
    } catch (err) {
      $("quiz-feedback").textContent = "";
      showError(err);
    }
  }

  async function answer(index) {
    const round = state.quiz.round;
    if (!round || round.answered) return;
    round.answered = true;
    const right = index === round.answer;
    state.quiz.asked += 1;
    if (right) state.quiz.right += 1;
    $("quiz-score").textContent = `${state.quiz.right} / ${state.quiz.asked}`;
    const buttons = $("quiz-choices").querySelectorAll("button");
    buttons.forEach((b, i) => {
      b.disabled = true;
      if (i === round.answer) b.classList.add("right");
      else if (i === index) b.classList.add("wrong");
    });
    const shown = round.mode === "author" ? styleLabel(round.choices[round.answer]) : round.choices[round.answer];
    $("quiz-feedback").textContent = right ? t("quiz_right") : t("quiz_wrong", { answer: shown });
    if (round.mode === "author" && state.features.has("who")) {
      try {
        const who = await api("/api/who", { names: round.names, models: round.choices });
        const mean = {};
        who.names.forEach((a) => Object.entries(a.probs).forEach(([s, p]) => { mean[s] = (mean[s] || 0) + p / who.names.length; }));
        const text = Object.entries(mean).sort((a, b) => b[1] - a[1]).map(([s, p]) => `${styleLabel(s)} ${Math.round(p * 100)}%`).join(" · ");
        $("quiz-feedback").append(el("span", "note who-note", t("quiz_who", { who: text })));
      } catch (err) { /* the verdict is a bonus: the round stands without it */ }
    }
  }

  function download(filename, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = el("a");
    a.href = url;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function csvField(v) {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  async function copyNames() {
    const text = state.names.map((r) => r.name).join("\n");
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {  // no clipboard permission (plain http on another host): the old way
      const area = el("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    $("copy").textContent = t("copied");
    setTimeout(() => { $("copy").textContent = t("copy"); }, 1200);
  }

  function describeModel() {
    if (!state.info) return;
    const m = state.info.models.find((x) => x.name === $("model").value);
    if (!m) return;
    $("model-note").textContent = m.training_names ? t("models_note", { kind: m.kind.toUpperCase(), count: m.training_names.toLocaleString() })
                                                   : t("base_note", { kind: m.kind.toUpperCase() });
  }

  function fillModels() {
    // shipped models by what they are, in the page's language; others by name and file
    const keep = $("model").value;
    $("model").replaceChildren();
    state.info.models.forEach((m) => {
      const known = MODEL_LABELS[lang][m.name];
      const option = el("option", null, known ? `${known} · ${m.name}` : `${m.name} — ${m.description}`);
      option.value = m.name;
      $("model").append(option);
    });
    if (keep) $("model").value = keep;
  }

  function fillStyleChoices() {
    // the other styles a model can be mixed with: every other loaded model
    const keep = $("style-with").value;
    const select = $("style-with");
    [...select.options].slice(1).forEach((o) => o.remove());
    state.info.models.filter((m) => m.name !== $("model").value).forEach((m) => {
      const option = el("option", null, `${styleLabel(m.name)} (${m.name})`);
      option.value = m.name;
      select.append(option);
    });
    select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
    $("style-weight-box").hidden = !select.value;
  }

  function fillQuizStyles() {
    // whose names the game shows: every default style (Jin Yong, Gu Long, Liang Yusheng) or any two of them
    const styles = state.info.styles || [];
    const select = $("quiz-styles");
    const keep = select.value;
    select.replaceChildren();
    const sets = [styles];
    if (styles.length > 2) styles.forEach((a, i) => styles.slice(i + 1).forEach((b) => sets.push([a, b])));
    sets.forEach((set) => {
      const option = el("option", null, set.map(styleLabel).join(lang === "zh" ? "、" : ", "));
      option.value = set.join(",");
      select.append(option);
    });
    select.value = [...select.options].some((o) => o.value === keep) ? keep : (select.options[0] ? select.options[0].value : "");
    $("quiz-styles-box").hidden = sets.length < 2;
  }

  function switchTab(name) {
    document.querySelectorAll(".tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === name)));
    document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== `panel-${name}`; });
    state.mode = name;
  }

  function syncMode() {
    const best = document.querySelector('input[name="mode"]:checked').value === "best";
    ["temperature", "top_k", "top_p", "min_p", "word_lean", "seed", "rank", "style-with", "style-weight"].forEach((id) => { $(id).disabled = best; });
    if (state.info) $("n").max = best ? state.info.limits.best : state.info.limits.generate;
  }

  async function init() {
    $("lang").addEventListener("click", () => {
      lang = lang === "zh" ? "en" : "zh";
      localStorage.setItem("xiaming.lang", lang);
      applyLang();
    });
    document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => switchTab(b.dataset.tab)));
    $("generate-form").addEventListener("submit", generate);
    $("score-form").addEventListener("submit", score);
    $("copy").addEventListener("click", copyNames);
    $("download-txt").addEventListener("click", () => download("names.txt", state.names.map((r) => r.name).join("\n") + "\n", "text/plain;charset=utf-8"));
    $("download-csv").addEventListener("click", () => {
      const lines = ["name,pinyin,log_prob,bits_per_char,percentile"].concat(state.names.map((r) =>
        [r.name, r.pinyin, r.log_prob, r.bits_per_char, r.percentile === null ? "" : r.percentile.toFixed(1)].map(csvField).join(",")));
      download("names.csv", "\ufeff" + lines.join("\n") + "\n", "text/csv;charset=utf-8");
    });
    $("detail-close").addEventListener("click", () => { $("detail").hidden = true; state.detail = null; });
    $("temperature").addEventListener("input", () => { $("temperature-out").textContent = Number($("temperature").value).toFixed(2); });
    document.querySelectorAll('input[name="mode"]').forEach((r) => r.addEventListener("change", syncMode));
    $("model").addEventListener("change", () => { describeModel(); if (state.info) fillStyleChoices(); });
    $("style-with").addEventListener("change", () => { $("style-weight-box").hidden = !$("style-with").value; });
    $("style-weight").addEventListener("input", () => { $("style-weight-out").textContent = `${$("style-weight").value}%`; });
    $("who-form").addEventListener("submit", whoTab);
    $("verse-form").addEventListener("submit", verseTab);
    $("quiz-next").addEventListener("click", nextRound);
    $("quiz-mode").addEventListener("change", nextRound);
    $("quiz-styles").addEventListener("change", nextRound);
    document.querySelector('[data-tab="quiz"]').addEventListener("click", () => { if (!state.quiz.round) nextRound(); });
    applyLang();
    try {
      state.info = await api("/api/models");
      fillModels();
      $("model").value = state.info.default;
      $("n").max = state.info.limits.generate;
      describeModel();
      state.features = new Set(state.info.features);
      $("tab-who").hidden = !state.features.has("who");
      $("tab-verse").hidden = !state.features.has("verse");
      $("tab-quiz").hidden = !state.features.has("quiz");
      $("style-box").hidden = !state.features.has("style");
      fillStyleChoices();
      fillQuizStyles();
    } catch (err) {
      showError(err);
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();

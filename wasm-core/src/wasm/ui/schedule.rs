//! 报关单协同's 自动协同 block: how often (关闭 / 每天 / 每周 + 星期), at what time, how many
//! recent months. 保存自动协同 checks the fields ([`crate::view::schedule::Schedule::from_form`])
//! and stores them in `chrome.storage.local` (`schedule`); the worker sees the change
//! (`chrome.storage.onChanged` in `background.js`) and creates the alarm again. The portal is the
//! one in 设置 (the same field 连接协同服务 uses).

use serde_json::{json, Value};

use super::api;
use super::dom::{button, el, form_row, option, El, Scope};
use crate::view::schedule::{summary, weekday_label, Schedule, STORAGE_KEY};
use crate::view::text::{Lang, T};

/// The block, filled from the stored settings once they are read.
pub fn block(lang: Lang, scope: &Scope, portal: El) -> El {
    let t = |x: T| x.get(lang);
    let repeat = el("select").id("s-repeat").children(
        [
            ("off", T::RepeatOff),
            ("daily", T::RepeatDaily),
            ("weekly", T::RepeatWeekly),
        ]
        .map(|(v, l)| option(v, t(l), v == "off")),
    );
    let weekday = el("select")
        .id("s-weekday")
        .children((1..=7u8).map(|d| option(&d.to_string(), weekday_label(d, lang), d == 1)));
    let time = el("input")
        .id("s-time")
        .attr("type", "time")
        .attr("value", "02:00");
    let months = el("input")
        .id("s-months")
        .attr("type", "number")
        .attr("min", "1")
        .attr("max", "12")
        .attr("value", "2");
    let save = button(t(T::ScheduleSave), "").id("s-save");
    let state = el("p").id("s-state").class("hint");
    let block = el("details")
        .class("settings")
        .id("schedule")
        .child(el("summary").text(t(T::ScheduleTitle)))
        .children([
            form_row(t(T::FieldRepeat), false, repeat.clone()),
            form_row(t(T::FieldWeekday), false, weekday.clone()),
            form_row(t(T::FieldTime), false, time.clone()),
            form_row(t(T::FieldMonths), false, months.clone()),
            el("p").class("hint").text(t(T::ScheduleHint)),
            save.clone(),
            state.clone(),
        ]);

    let (r, w, tm, m, s) = (
        repeat.clone(),
        weekday.clone(),
        time.clone(),
        months.clone(),
        state.clone(),
    );
    wasm_bindgen_futures::spawn_local(async move {
        let stored = api::load(&[STORAGE_KEY]).await;
        let Some(schedule) = stored
            .get(STORAGE_KEY)
            .cloned()
            .and_then(|v| serde_json::from_value::<Schedule>(v).ok())
        else {
            return;
        };
        r.set_value(schedule.repeat.code());
        w.set_value(&schedule.weekday.to_string());
        tm.set_value(&schedule.time_text());
        m.set_value(&schedule.months.to_string());
        s.set_text(&summary(&schedule, lang));
    });

    scope.click(&save, move || {
        match Schedule::from_form(
            &repeat.value(),
            &weekday.value(),
            &time.value(),
            &months.value(),
            &portal.value(),
        ) {
            Ok(schedule) => {
                let state = state.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let value = serde_json::to_value(&schedule).unwrap_or(Value::Null);
                    api::save(&json!({ STORAGE_KEY: value })).await;
                    state.set_class("hint saved");
                    state.set_text(&T::ScheduleSaved.fill(lang, &[&summary(&schedule, lang)]));
                });
            }
            Err(error) => {
                state.set_class("form-error");
                state.set_text(&error.to_string());
            }
        }
    });
    block
}

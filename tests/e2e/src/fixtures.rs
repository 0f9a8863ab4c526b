//! Synthetic declarations for benchmarks that fill a store through the host's protocol
//! (`pages-bench`, `cargo xtask bench host`): the list row and the detail a sync would save, in
//! the portal's shapes (every number a string, as the portal sends them).

use datalink_core::calendar::Date;
use datalink_core::portal::{Detail, ListRow};
use serde_json::{json, Map, Value};

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// One synthetic declaration of day `day`, in the portal's shapes (list row and detail).
pub fn declaration(i: usize, day: Date) -> (ListRow, Detail) {
    let cus = format!("I{}{:013}", day.year(), i);
    let entry = format!("9001{}1{:09}", day.year(), i);
    let ie_date = day.to_string().replace('-', "");
    let update = format!("{day} 10:{:02}:{:02}", i / 60 % 60, i % 60);
    let raw = object(json!({
        "cusCiqNo": cus, "entryId": entry, "cusIEFlag": "I", "cusDecStatus": "10", "cusDecStatusName": "结关", "iEDate": ie_date,
        "supvModeCdde": "0110", "supvModeCddeName": "一般贸易", "customMasterName": "西安关区", "ciqEntyPortCodeName": "西安咸阳国际机场",
        "chktstFlagName": if matches!(i % 7, 0) { "是" } else { "否" }, "goodsNum": "3", "billNo": format!("COSU{i:010}"), "updateTime": update,
    }));
    let row = ListRow {
        cus_ciq_no: cus.clone(),
        entry_id: Some(entry.clone()),
        ie_flag: "I".into(),
        status: "10".into(),
        status_name: "结关".into(),
        ie_date: ie_date.clone(),
        update_time: update.clone(),
        goods_num: Some(3),
        raw,
    };
    let head = object(json!({
        "cusCiqNo": cus, "entryId": entry, "cusIEFlag": "I", "cusDecStatus": "10", "cusDecStatusName": "结关", "iEDate": ie_date,
        "dDate": format!("{day} 09:00:00"), "updateTime": update, "billNo": format!("COSU{i:010}"), "tradeModeCode": "0110",
        "tradeModeCodeName": "一般贸易", "customMaster": "9001", "customMasterName": "西安关区", "iEPort": "9002", "iEPortName": "咸阳机场",
        "ownerName": "西安数据协同贸易有限公司", "consigneeCname": "西安数据协同贸易有限公司", "agentName": "西安港航报关服务有限公司",
        "grossWt": "1200.5", "netWt": "1100", "packNo": "12", "transMode": "1", "transModeName": "CIF", "contractNo": format!("HT-{i}"),
    }));
    let goods = (1..=3)
        .map(|g| {
            object(json!({"gNo": g.to_string(), "codeTs": "8471300000", "gName": "笔记本电脑", "gModel": "1|0|ACME|AB-123", "gQty": "2",
                "gUnit": "001", "gUnitName": "台", "declPrice": "3394.66", "declTotal": "6789.32", "tradeCurr": "502", "tradeCurrName": "美元",
                "cusOriginCountry": "USA", "destinationCountry": "CHN", "dutyModeName": "照章征税"}))
        })
        .collect();
    let detail = Detail {
        cus_ciq_no: cus,
        entry_id: Some(entry),
        ie_flag: "I".into(),
        status: "10".into(),
        ie_date: day.to_string(),
        declaration_date: format!("{day} 09:00:00"),
        update_time: update,
        head,
        goods,
        documents: vec![],
    };
    (row, detail)
}

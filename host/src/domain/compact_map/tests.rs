use super::CompactMap;
use std::collections::BTreeMap;

fn sample() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([
        ("zone".to_string(), vec!["urban".to_string()]),
        ("age".to_string(), vec!["34".to_string(), "35".to_string()]),
    ])
}

#[test]
fn a_compact_map_writes_the_same_json_as_a_btree_map() {
    let compact = CompactMap::from(sample());
    assert_eq!(
        serde_json::to_string(&compact).unwrap(),
        r#"{"age":["34","35"],"zone":["urban"]}"#
    );
    assert_eq!(
        serde_json::to_string(&compact).unwrap(),
        serde_json::to_string(&sample()).unwrap()
    );
}

#[test]
fn an_empty_compact_map_is_an_empty_object_not_a_list() {
    let empty: CompactMap<String, u32> = CompactMap::new();
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}

#[test]
fn a_compact_map_reads_unsorted_json_in_key_order_at_exact_capacity() {
    let map: CompactMap<String, u32> = serde_json::from_str(r#"{"b":2,"a":1,"c":3}"#).unwrap();
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(map.clone().into_pairs().capacity(), 3);
}

#[test]
fn a_repeated_key_keeps_its_last_value_as_in_a_btree_map() {
    let map: CompactMap<String, u32> = serde_json::from_str(r#"{"a":1,"a":2}"#).unwrap();
    assert_eq!(map.get("a"), Some(&2));
    assert_eq!(map.len(), 1);
}

#[test]
fn a_list_is_refused_where_a_map_is_expected() {
    let read: Result<CompactMap<String, u32>, _> = serde_json::from_str(r#"[["a",1]]"#);
    assert!(read.is_err());
}

#[test]
fn a_compact_map_round_trips_through_message_pack() {
    let compact = CompactMap::from(sample());
    let bytes = rmp_serde::to_vec_named(&compact).unwrap();
    assert_eq!(bytes, rmp_serde::to_vec_named(&sample()).unwrap());
    let back: CompactMap<String, Vec<String>> = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(back, compact);
}

#[test]
fn inserting_keeps_the_keys_sorted() {
    let mut map: CompactMap<String, u32> = CompactMap::new();
    map.insert("m".to_string(), 1);
    map.insert("a".to_string(), 2);
    map.insert("m".to_string(), 3);
    let pairs = map.into_pairs();
    assert_eq!(pairs, [("a".to_string(), 2), ("m".to_string(), 3)]);
}

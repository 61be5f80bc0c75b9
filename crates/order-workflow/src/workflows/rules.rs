//! The workflow rules that need no database: the shape of a definition (`definition_json`), its
//! validation on save, and the choice of the transition a completed task takes. Kept apart so
//! each is tested as a table.
//!
//! A definition is a list of stages and a list of transitions. The first stage is where an
//! instance starts. Every stage that is not an end carries one task (bilingual name, type, and
//! who it is for: a role, a person resolved from the business record, or both — the person when
//! known, else the role). Transitions leave a stage in the order written; the first whose
//! condition holds for the instance's variables (merged with the completed task's result) wins.

use super::condition::{self, Cond};
use crate::orders::rules as order_rules;
use crm_common::api::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use utoipa::ToSchema;

pub const WORKFLOW_TYPES: &[&str] = &["order_approval", "delivery_review", "payment_approval"];
pub const BUSINESS_TYPES: &[&str] = &["order", "service_record"];
pub const TASK_TYPES: &[&str] = &["user_task", "service_task", "script_task"];
pub const INSTANCE_STATUSES: &[&str] = &["running", "completed", "cancelled", "suspended"];
pub const TASK_STATUSES: &[&str] = &["pending", "in_progress", "completed", "cancelled"];
/// People a task may be assigned to by what they are to the business record: the operator the
/// order is assigned to, the order's seller, or whoever started the instance.
pub const ASSIGN_TO: &[&str] = &["order_assignee", "order_seller", "starter"];
/// What completing a task does besides moving the instance: `assign_order` assigns the order to
/// the operator named in the result's `assigned_to_user_id`, as `POST /orders/{id}/assign` does.
pub const ACTIONS: &[&str] = &["assign_order"];
/// Most stages and transitions one definition may hold.
const MAX_STAGES: usize = 50;
const MAX_TRANSITIONS: usize = 200;

/// One stage of a definition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// Unique in the definition: lower-case letters, digits and `_`.
    pub stage_code: String,
    pub stage_name_zh: String,
    pub stage_name_id: String,
    /// An end stage: reaching it completes the instance. It has no task and no way out.
    #[serde(default)]
    pub is_end: bool,
    /// For definitions of orders: the order status this stage puts the order in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    /// The task's code (default: the stage code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_name_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_name_id: Option<String>,
    /// `user_task` (default), `service_task` or `script_task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// A role code (`ADMIN`, `OPERATION`, …): anyone holding it may take the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_to_role: Option<String>,
    /// `order_assignee`, `order_seller` or `starter`: a person, when the record has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_to: Option<String>,
    /// `assign_order`: completing the task assigns the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The task is due this many days after it is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_in_days: Option<u32>,
}

/// A way from one stage to another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub from: String,
    pub to: String,
    /// `auto`, or a condition over the variables such as `approval_result == 'approved'`.
    #[serde(default = "auto")]
    pub condition: String,
}

fn auto() -> String {
    "auto".into()
}

/// A whole definition, as stored in `definition_json`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Definition {
    pub stages: Vec<Stage>,
    pub transitions: Vec<Transition>,
}

impl Definition {
    pub fn stage(&self, code: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.stage_code == code)
    }

    pub fn start(&self) -> Option<&Stage> {
        self.stages.first()
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn text(errors: &mut Vec<FieldError>, field: String, value: Option<&str>, max: usize) {
    match value.map(str::trim) {
        None | Some("") => errors.push(FieldError::new(field, "is required")),
        Some(v) if v.chars().count() > max => errors.push(FieldError::new(field, format!("at most {max} characters"))),
        _ => {}
    }
}

/// Reads `definition_json`, naming the stage or transition that does not have the right shape.
pub fn read(value: &Value) -> Result<Definition, Vec<FieldError>> {
    let f = |p: &str| format!("definition_json.{p}");
    let obj = value.as_object().ok_or_else(|| vec![FieldError::new("definition_json", "must be an object")])?;
    let mut errors = Vec::new();
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "stages" | "transitions")) {
        errors.push(FieldError::new(f(k), "unknown field (expected stages and transitions)"));
    }
    let list = |key: &str, errors: &mut Vec<FieldError>| match obj.get(key) {
        Some(Value::Array(a)) => a.clone(),
        _ => {
            errors.push(FieldError::new(f(key), "must be a list"));
            Vec::new()
        }
    };
    let raw_stages = list("stages", &mut errors);
    let raw_transitions = list("transitions", &mut errors);
    let mut stages = Vec::new();
    for (i, s) in raw_stages.into_iter().enumerate() {
        match serde_json::from_value::<Stage>(s) {
            Ok(s) => stages.push(s),
            Err(e) => errors.push(FieldError::new(f(&format!("stages[{i}]")), e.to_string())),
        }
    }
    let mut transitions = Vec::new();
    for (i, t) in raw_transitions.into_iter().enumerate() {
        match serde_json::from_value::<Transition>(t) {
            Ok(t) => transitions.push(t),
            Err(e) => errors.push(FieldError::new(f(&format!("transitions[{i}]")), e.to_string())),
        }
    }
    if errors.is_empty() { Ok(Definition { stages, transitions }) } else { Err(errors) }
}

/// Everything wrong with a definition for records of `business_type`, each naming where: stage
/// codes unique and well formed, tasks complete, transitions between existing stages with
/// conditions that parse, every stage reachable from the first, an end reachable from every
/// stage, no way out of an end.
pub fn validate(def: &Definition, business_type: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let f = |p: String| format!("definition_json.{p}");
    if def.stages.is_empty() {
        errors.push(FieldError::new("definition_json.stages", "needs at least one stage"));
        return errors;
    }
    if def.stages.len() > MAX_STAGES {
        errors.push(FieldError::new("definition_json.stages", format!("at most {MAX_STAGES} stages")));
    }
    if def.transitions.len() > MAX_TRANSITIONS {
        errors.push(FieldError::new("definition_json.transitions", format!("at most {MAX_TRANSITIONS} transitions")));
    }
    let mut seen = HashSet::new();
    for (i, s) in def.stages.iter().enumerate() {
        let at = |field: &str| f(format!("stages[{i}].{field}"));
        if !is_code(&s.stage_code) {
            errors.push(FieldError::new(at("stage_code"), "lower-case letters, digits and _ (1–100)"));
        } else if !seen.insert(s.stage_code.as_str()) {
            errors.push(FieldError::new(at("stage_code"), format!("`{}` is used by an earlier stage", s.stage_code)));
        }
        text(&mut errors, at("stage_name_zh"), Some(&s.stage_name_zh), 255);
        text(&mut errors, at("stage_name_id"), Some(&s.stage_name_id), 255);
        if let Some(status) = &s.order_status {
            if business_type != "order" {
                errors.push(FieldError::new(at("order_status"), "only definitions of orders set an order status"));
            } else if !order_rules::STATUSES.contains(&status.as_str()) {
                errors.push(FieldError::new(
                    at("order_status"),
                    format!("must be one of: {}", order_rules::STATUSES.join(", ")),
                ));
            }
        }
        if s.is_end {
            if i == 0 {
                errors.push(FieldError::new(
                    at("is_end"),
                    "the first stage is where an instance starts; it cannot be an end",
                ));
            }
            for field in ["task_name_zh", "task_name_id", "assign_to_role", "assign_to", "action"] {
                let set = match field {
                    "task_name_zh" => s.task_name_zh.is_some(),
                    "task_name_id" => s.task_name_id.is_some(),
                    "assign_to_role" => s.assign_to_role.is_some(),
                    "assign_to" => s.assign_to.is_some(),
                    _ => s.action.is_some(),
                };
                if set {
                    errors.push(FieldError::new(at(field), "an end stage has no task"));
                }
            }
            continue;
        }
        text(&mut errors, at("task_name_zh"), s.task_name_zh.as_deref(), 255);
        text(&mut errors, at("task_name_id"), s.task_name_id.as_deref(), 255);
        if let Some(c) = &s.task_code
            && !is_code(c)
        {
            errors.push(FieldError::new(at("task_code"), "lower-case letters, digits and _ (1–100)"));
        }
        if let Some(t) = &s.task_type
            && !TASK_TYPES.contains(&t.as_str())
        {
            errors.push(FieldError::new(at("task_type"), format!("must be one of: {}", TASK_TYPES.join(", "))));
        }
        match (&s.assign_to_role, &s.assign_to) {
            (None, None) => errors.push(FieldError::new(
                at("assign_to_role"),
                "a task must be for a role (assign_to_role) or a person (assign_to)",
            )),
            (Some(r), _) if r.trim().is_empty() || r.len() > 50 => {
                errors.push(FieldError::new(at("assign_to_role"), "a role code (1–50 characters)"))
            }
            _ => {}
        }
        if let Some(a) = &s.assign_to {
            if !ASSIGN_TO.contains(&a.as_str()) {
                errors.push(FieldError::new(at("assign_to"), format!("must be one of: {}", ASSIGN_TO.join(", "))));
            } else if a.starts_with("order_") && business_type != "order" {
                errors.push(FieldError::new(at("assign_to"), format!("`{a}` needs a definition of orders")));
            }
        }
        if let Some(a) = &s.action {
            if !ACTIONS.contains(&a.as_str()) {
                errors.push(FieldError::new(at("action"), format!("must be one of: {}", ACTIONS.join(", "))));
            } else if business_type != "order" {
                errors.push(FieldError::new(at("action"), format!("`{a}` needs a definition of orders")));
            }
        }
        if s.due_in_days.is_some_and(|d| d > 3650) {
            errors.push(FieldError::new(at("due_in_days"), "at most 3650"));
        }
    }
    let index: HashMap<&str, usize> = def.stages.iter().enumerate().map(|(i, s)| (s.stage_code.as_str(), i)).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); def.stages.len()];
    for (i, t) in def.transitions.iter().enumerate() {
        let at = |field: &str| f(format!("transitions[{i}].{field}"));
        let from = index.get(t.from.as_str()).copied();
        let to = index.get(t.to.as_str()).copied();
        if from.is_none() {
            errors.push(FieldError::new(at("from"), format!("no stage `{}`", t.from)));
        }
        if to.is_none() {
            errors.push(FieldError::new(at("to"), format!("no stage `{}`", t.to)));
        }
        if let Err(e) = condition::parse(&t.condition) {
            errors.push(FieldError::new(at("condition"), e));
        }
        if let (Some(a), Some(b)) = (from, to) {
            if def.stages[a].is_end {
                errors.push(FieldError::new(at("from"), format!("`{}` is an end stage; nothing leaves it", t.from)));
            }
            if a == b {
                errors.push(FieldError::new(at("to"), "a transition must lead to another stage"));
            }
            edges[a].push(b);
        }
    }
    if !errors.is_empty() {
        return errors;
    }
    // Reachable from the start.
    let reach = |from: usize, edges: &Vec<Vec<usize>>| {
        let mut seen = vec![false; edges.len()];
        let mut queue = VecDeque::from([from]);
        seen[from] = true;
        while let Some(n) = queue.pop_front() {
            for &m in &edges[n] {
                if !seen[m] {
                    seen[m] = true;
                    queue.push_back(m);
                }
            }
        }
        seen
    };
    let from_start = reach(0, &edges);
    for (i, s) in def.stages.iter().enumerate() {
        if !from_start[i] {
            errors.push(FieldError::new(
                f(format!("stages[{i}]")),
                format!("`{}` cannot be reached from the first stage", s.stage_code),
            ));
        }
    }
    if !def.stages.iter().any(|s| s.is_end) {
        errors.push(FieldError::new("definition_json.stages", "needs an end stage (is_end: true)"));
        return errors;
    }
    // An end reachable from every stage: walk the reversed graph from the ends.
    let mut reversed: Vec<Vec<usize>> = vec![Vec::new(); def.stages.len()];
    for (a, outs) in edges.iter().enumerate() {
        for &b in outs {
            reversed[b].push(a);
        }
    }
    let mut to_end = vec![false; def.stages.len()];
    for (i, s) in def.stages.iter().enumerate() {
        if s.is_end && !to_end[i] {
            for (j, r) in reach(i, &reversed).into_iter().enumerate() {
                to_end[j] |= r;
            }
        }
    }
    for (i, s) in def.stages.iter().enumerate() {
        if !s.is_end && edges[i].is_empty() {
            errors.push(FieldError::new(
                f(format!("stages[{i}]")),
                format!("no transition leaves `{}`, which is not an end", s.stage_code),
            ));
        } else if !to_end[i] {
            errors.push(FieldError::new(
                f(format!("stages[{i}]")),
                format!("no end can be reached from `{}`", s.stage_code),
            ));
        }
    }
    errors
}

/// The transition a completion takes from `from`: the first, in the order written, whose
/// condition holds for `vars`.
pub fn choose<'a>(def: &'a Definition, from: &str, vars: &Map<String, Value>) -> Option<&'a Transition> {
    def.transitions.iter().filter(|t| t.from == from).find(|t| {
        let parsed: Option<Cond> = condition::parse(&t.condition).ok();
        parsed.is_some_and(|c| condition::eval(&c, vars))
    })
}

/// What the transitions leaving `from` wait for, for the message when no condition holds.
pub fn expected(def: &Definition, from: &str) -> String {
    def.transitions.iter().filter(|t| t.from == from).map(|t| t.condition.as_str()).collect::<Vec<_>>().join(" | ")
}

/// The variables a condition sets when it only asks for equalities (`auto`, `a == 'x'`,
/// `a == 'x' && b == 1`): what a completion must carry to satisfy it. Any other condition says
/// too little to be met on the caller's behalf.
fn satisfying(c: &Cond, out: &mut Map<String, Value>) -> bool {
    match c {
        Cond::Always(true) => true,
        Cond::Cmp(name, condition::Op::Eq, value) => {
            out.insert(name.clone(), value.clone());
            true
        }
        Cond::And(a, b) => satisfying(a, out) && satisfying(b, out),
        _ => false,
    }
}

/// The result with which completing the task of stage `from` moves an order to `order_status`:
/// the first transition leaving `from` for a stage that puts the order there, when its
/// condition can be met by setting variables and, so set, it is the transition [`choose`]
/// takes. How an order's status changed by hand (the detail page's buttons) becomes the
/// completion of the task its workflow waits for; `None` when the workflow cannot go there now.
pub fn result_for_move(def: &Definition, from: &str, order_status: &str, vars: &Value) -> Option<Map<String, Value>> {
    def.transitions
        .iter()
        .filter(|t| t.from == from)
        .filter(|t| def.stage(&t.to).and_then(|s| s.order_status.as_deref()) == Some(order_status))
        .find_map(|t| {
            let mut result = Map::new();
            let cond = condition::parse(&t.condition).ok()?;
            if !satisfying(&cond, &mut result) {
                return None;
            }
            let chosen = choose(def, from, &merge(vars, &result))?;
            (chosen == t).then_some(result)
        })
}

/// `vars` with `result`'s keys laid over them.
pub fn merge(vars: &Value, result: &Map<String, Value>) -> Map<String, Value> {
    let mut out = vars.as_object().cloned().unwrap_or_default();
    for (k, v) in result {
        out.insert(k.clone(), v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order_approval() -> Definition {
        read(&super::super::seed::order_approval_json()).unwrap()
    }

    fn errors_of(v: Value) -> Vec<String> {
        match read(&v) {
            Err(e) => e.into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
            Ok(d) => validate(&d, "order").into_iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
        }
    }

    fn has(errors: &[String], want: &str) -> bool {
        errors.iter().any(|e| e.contains(want))
    }

    #[test]
    fn the_seeded_definition_is_valid() {
        assert!(validate(&order_approval(), "order").is_empty());
    }

    #[test]
    fn a_status_set_by_hand_is_the_result_that_takes_the_workflow_there() {
        let def = order_approval();
        let none = json!({});
        let approved = result_for_move(&def, "submitted", "approved", &none).unwrap();
        assert_eq!(Value::Object(approved), json!({"approval_result": "approved"}));
        let rejected = result_for_move(&def, "submitted", "cancelled", &none).unwrap();
        assert_eq!(Value::Object(rejected), json!({"approval_result": "rejected"}));
        assert_eq!(result_for_move(&def, "assigned", "processing", &none), Some(Map::new()));
        assert_eq!(result_for_move(&def, "processing", "completed", &none), Some(Map::new()));
        // Not where the workflow goes from here.
        assert_eq!(result_for_move(&def, "submitted", "processing", &none), None);
        assert_eq!(result_for_move(&def, "completed", "completed", &none), None);
        // A condition that cannot be met by setting variables is not met on anyone's behalf.
        let mut odd = def.clone();
        odd.transitions[0].condition = "amount > 100".into();
        assert_eq!(result_for_move(&odd, "submitted", "approved", &none), None);
    }

    #[test]
    fn bad_definitions_are_refused_naming_where() {
        let task = json!({"task_name_zh": "审核", "task_name_id": "Tinjau", "assign_to_role": "ADMIN"});
        let stage = |code: &str, end: bool| {
            let mut s = json!({"stage_code": code, "stage_name_zh": code, "stage_name_id": code, "is_end": end});
            if !end {
                for (k, v) in task.as_object().unwrap() {
                    s[k] = v.clone();
                }
            }
            s
        };
        let dangling = json!({"stages": [stage("a", false), stage("done", true)],
            "transitions": [{"from": "a", "to": "nowhere", "condition": "auto"}]});
        assert!(has(&errors_of(dangling), "definition_json.transitions[0].to: no stage `nowhere`"));
        let no_end = json!({"stages": [stage("a", false), stage("b", false)],
            "transitions": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]});
        assert!(has(&errors_of(no_end), "needs an end stage"));
        let unreachable_end = json!({"stages": [stage("a", false), stage("b", false), stage("done", true)],
            "transitions": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}, {"from": "done", "to": "a"}]});
        let e = errors_of(unreachable_end);
        assert!(has(&e, "transitions[2].from: `done` is an end stage"), "{e:?}");
        let stuck = json!({"stages": [stage("a", false), stage("b", false), stage("done", true)],
            "transitions": [{"from": "a", "to": "b"}, {"from": "a", "to": "done"}, {"from": "b", "to": "a", "condition": "x == 1"}]});
        assert!(errors_of(stuck).is_empty());
        let loop_only = json!({"stages": [stage("a", false), stage("b", false), stage("c", false), stage("done", true)],
            "transitions": [{"from": "a", "to": "done"}, {"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "b"}]});
        let e = errors_of(loop_only);
        assert!(has(&e, "stages[1]: no end can be reached from `b`"), "{e:?}");
        let orphan = json!({"stages": [stage("a", false), stage("done", true), stage("lost", true)],
            "transitions": [{"from": "a", "to": "done"}]});
        assert!(has(&errors_of(orphan), "stages[2]: `lost` cannot be reached"));
        let bad_cond = json!({"stages": [stage("a", false), stage("done", true)],
            "transitions": [{"from": "a", "to": "done", "condition": "approval_result = 'approved'"}]});
        assert!(has(&errors_of(bad_cond), "transitions[0].condition: unexpected `=`"));
        let dup = json!({"stages": [stage("a", false), stage("a", true)], "transitions": []});
        assert!(has(&errors_of(dup), "stages[1].stage_code: `a` is used"));
        let mut nobody = stage("a", false);
        nobody.as_object_mut().unwrap().remove("assign_to_role");
        let e =
            errors_of(json!({"stages": [nobody, stage("done", true)], "transitions": [{"from": "a", "to": "done"}]}));
        assert!(has(&e, "stages[0].assign_to_role: a task must be for a role"), "{e:?}");
        let typo = json!({"stages": [{"stage_code": "a", "stage_name_zh": "a", "stage_name_id": "a", "assign_to_rol": "X"}], "transitions": []});
        assert!(has(&errors_of(typo), "definition_json.stages[0]: unknown field `assign_to_rol`"));
        let bad_status = {
            let mut s = stage("a", false);
            s["order_status"] = json!("shipped");
            json!({"stages": [s, stage("done", true)], "transitions": [{"from": "a", "to": "done"}]})
        };
        assert!(has(&errors_of(bad_status), "stages[0].order_status: must be one of"));
        assert!(has(&errors_of(json!({"stages": []})), "transitions: must be a list"));
        assert!(has(&errors_of(json!([])), "must be an object"));
    }

    #[test]
    fn the_first_matching_transition_wins() {
        let d = order_approval();
        let approved = merge(&json!({}), &json!({"approval_result": "approved"}).as_object().cloned().unwrap());
        assert_eq!(choose(&d, "submitted", &approved).map(|t| t.to.as_str()), Some("approved"));
        let rejected = merge(&json!({"x": 1}), &json!({"approval_result": "rejected"}).as_object().cloned().unwrap());
        assert_eq!(choose(&d, "submitted", &rejected).map(|t| t.to.as_str()), Some("rejected"));
        assert!(choose(&d, "submitted", &Map::new()).is_none());
        assert_eq!(choose(&d, "approved", &Map::new()).map(|t| t.to.as_str()), Some("assigned"));
        assert!(expected(&d, "submitted").contains("approval_result == 'approved'"));
    }
}

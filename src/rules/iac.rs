//! Metric filters and alarms from infrastructure code, before they are
//! deployed: CloudFormation templates (JSON or YAML) and Terraform plans
//! (`terraform show -json`). Each is turned into the shapes
//! `describe-metric-filters` and `describe-alarms` print, so that
//! [`super::aws::import`] joins them exactly as it joins a live
//! configuration.
//!
//! CloudFormation intrinsics are resolved where the template alone decides
//! them (`Ref` to a parameter with a default, to a resource whose name is
//! set, `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::FindInMap`, `Fn::GetAtt`
//! to a property the template sets); a resource that needs anything else
//! (`Fn::If`, imports, the stack's account or region) is refused with the
//! resource's name. Pure: the caller reads the files.

use std::fmt;

use serde_json::{json, Map, Value};

/// Metric filters and alarms read from infrastructure code.
#[derive(Debug, Default)]
pub struct Declared {
    /// `{"metricFilters": [...], "MetricAlarms": [...]}`, for
    /// [`super::aws::import`].
    pub doc: Value,
    /// Resources that cannot be replayed, with the reason.
    pub refused: Vec<String>,
    /// Things worth knowing (a name made up from the logical ID).
    pub notes: Vec<String>,
}

/// Why a document cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IacError {
    /// Neither JSON nor YAML.
    Syntax {
        /// The document.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// Not what the option expects.
    Shape {
        /// The document.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl fmt::Display for IacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IacError::Syntax { path, message } => write!(f, "{path}: {message}"),
            IacError::Shape { path, problem } => write!(f, "{path}: {problem}"),
        }
    }
}

impl std::error::Error for IacError {}

const FILTER: &str = "AWS::Logs::MetricFilter";
const ALARM: &str = "AWS::CloudWatch::Alarm";

/// A CloudFormation template, JSON or YAML (short-form tags included).
pub fn cloudformation(path: &str, text: &str) -> Result<Declared, IacError> {
    let template = match serde_json::from_str::<Value>(text) {
        Ok(v) => v,
        Err(_) => {
            let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
                .map_err(|e| IacError::Syntax { path: path.into(), message: format!("neither JSON nor YAML: {e}") })?;
            from_yaml(yaml).map_err(|problem| IacError::Shape { path: path.into(), problem })?
        }
    };
    let resources = template.get("Resources").and_then(Value::as_object).ok_or_else(|| IacError::Shape {
        path: path.into(),
        problem: "not a CloudFormation template (no Resources)".into(),
    })?;
    let cx = Template { root: &template, resources };
    let mut out = Declared::default();
    let (mut filters, mut alarms) = (Vec::new(), Vec::new());
    for (id, res) in resources {
        let kind = res.get("Type").and_then(Value::as_str).unwrap_or_default();
        let props = res.get("Properties").cloned().unwrap_or(json!({}));
        let made = match kind {
            FILTER => cfn_filter(&cx, id, &props, &mut out.notes).map(|f| filters.push(f)),
            ALARM => cfn_alarm(&cx, id, &props, &mut out.notes).map(|a| alarms.push(a)),
            _ => Ok(()),
        };
        if let Err(why) = made {
            out.refused.push(format!("{kind} {id}: {why}"));
        }
    }
    out.doc = json!({ "metricFilters": filters, "MetricAlarms": alarms });
    Ok(out)
}

/// YAML to JSON, with CloudFormation's short forms (`!Ref x`, `!Sub s`,
/// `!GetAtt a.b`) written in their long forms.
fn from_yaml(v: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => return Err(format!("a mapping key that is not a scalar: {other:?}")),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = from_yaml(t.value)?;
            let (key, inner) = match name {
                "Ref" | "Condition" => (name.to_string(), inner),
                "GetAtt" => match inner {
                    // `!GetAtt Resource.Attribute`.
                    Value::String(s) => match s.split_once('.') {
                        Some((r, a)) => ("Fn::GetAtt".into(), json!([r, a])),
                        None => return Err(format!("!GetAtt {s}: not Resource.Attribute")),
                    },
                    other => ("Fn::GetAtt".into(), other),
                },
                _ => (format!("Fn::{name}"), inner),
            };
            json!({ key: inner })
        }
    })
}

struct Template<'a> {
    root: &'a Value,
    resources: &'a Map<String, Value>,
}

/// Pseudo-parameters whose value does not depend on the stack.
fn pseudo(name: &str) -> Option<&'static str> {
    match name {
        "AWS::Partition" => Some("aws"),
        "AWS::URLSuffix" => Some("amazonaws.com"),
        _ => None,
    }
}

impl Template<'_> {
    /// `Ref name`.
    fn reference(&self, name: &str) -> Result<Value, String> {
        if let Some(v) = pseudo(name) {
            return Ok(json!(v));
        }
        if name.starts_with("AWS::") {
            return Err(format!("Ref {name} is known only when the stack is deployed"));
        }
        if let Some(p) = self.root.get("Parameters").and_then(|p| p.get(name)) {
            return p.get("Default").cloned().ok_or_else(|| format!("parameter {name} has no Default"));
        }
        let res = self.resources.get(name).ok_or_else(|| format!("Ref {name}: no such parameter or resource"))?;
        let kind = res.get("Type").and_then(Value::as_str).unwrap_or_default();
        // Ref gives these resources' names, when the template sets them.
        let field = match kind {
            FILTER => "FilterName",
            ALARM => "AlarmName",
            "AWS::Logs::LogGroup" => "LogGroupName",
            "AWS::SNS::Topic" => "TopicName",
            _ => return Err(format!("Ref {name} ({kind}) is known only when the stack is deployed")),
        };
        match res.get("Properties").and_then(|p| p.get(field)) {
            Some(v) => self.resolve(v),
            None => Err(format!("Ref {name}: its {field} is chosen by CloudFormation at deployment")),
        }
    }

    fn get_att(&self, resource: &str, attribute: &str) -> Result<Value, String> {
        let res = self.resources.get(resource).ok_or_else(|| format!("Fn::GetAtt {resource}: no such resource"))?;
        // An attribute that is one of the resource's own properties.
        let mut v = res.get("Properties");
        for part in attribute.split('.') {
            v = v.and_then(|x| match x {
                Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => x.get(part),
            });
        }
        match v {
            Some(v) => self.resolve(v),
            None => Err(format!("Fn::GetAtt {resource}.{attribute} is known only when the stack is deployed")),
        }
    }

    fn sub(&self, text: &str, vars: Option<&Map<String, Value>>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after.find('}').ok_or_else(|| format!("Fn::Sub {text:?}: an unclosed ${{"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let v = match vars.and_then(|m| m.get(name)) {
                    Some(v) => self.resolve(v)?,
                    None => match name.split_once('.') {
                        Some((r, a)) if !name.starts_with("AWS::") => self.get_att(r, a)?,
                        _ => self.reference(name)?,
                    },
                };
                out.push_str(&scalar_text(&v).ok_or_else(|| format!("Fn::Sub ${{{name}}} is not a scalar"))?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `v` with every intrinsic function replaced by its value.
    fn resolve(&self, v: &Value) -> Result<Value, String> {
        match v {
            Value::Array(items) => Ok(Value::Array(items.iter().map(|x| self.resolve(x)).collect::<Result<_, _>>()?)),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => self.reference(arg.as_str().ok_or("Ref takes a name")?),
                    "Fn::Sub" => match arg {
                        Value::String(s) => Ok(json!(self.sub(s, None)?)),
                        Value::Array(a) => {
                            match (a.first().and_then(Value::as_str), a.get(1).and_then(Value::as_object)) {
                                (Some(s), Some(vars)) => Ok(json!(self.sub(s, Some(vars))?)),
                                _ => Err("Fn::Sub takes a string, or a string and a map".into()),
                            }
                        }
                        _ => Err("Fn::Sub takes a string, or a string and a map".into()),
                    },
                    "Fn::Join" => {
                        let a = arg.as_array().filter(|a| a.len() == 2).ok_or("Fn::Join takes [delimiter, list]")?;
                        let sep = a[0].as_str().ok_or("Fn::Join: the delimiter is not a string")?;
                        let list = self.resolve(&a[1])?;
                        let parts: Option<Vec<String>> =
                            list.as_array().and_then(|l| l.iter().map(scalar_text).collect());
                        Ok(json!(parts.ok_or("Fn::Join: not a list of scalars")?.join(sep)))
                    }
                    "Fn::Select" => {
                        let a = arg.as_array().filter(|a| a.len() == 2).ok_or("Fn::Select takes [index, list]")?;
                        let i = scalar_text(&self.resolve(&a[0])?)
                            .and_then(|s| s.parse::<usize>().ok())
                            .ok_or("Fn::Select: the index is not a number")?;
                        let list = self.resolve(&a[1])?;
                        list.as_array()
                            .and_then(|l| l.get(i))
                            .cloned()
                            .ok_or_else(|| format!("Fn::Select: no item {i}"))
                    }
                    "Fn::FindInMap" => {
                        let a = arg.as_array().filter(|a| a.len() == 3).ok_or("Fn::FindInMap takes [map, key, key]")?;
                        let keys: Vec<String> = a
                            .iter()
                            .map(|x| self.resolve(x).ok().as_ref().and_then(scalar_text))
                            .collect::<Option<_>>()
                            .ok_or("Fn::FindInMap: a key is not a scalar")?;
                        let found =
                            self.root.get("Mappings").and_then(|m| m.get(&keys[0])).and_then(|m| m.get(&keys[1]));
                        let v = found.and_then(|m| m.get(&keys[2]));
                        v.cloned().ok_or_else(|| format!("Fn::FindInMap: no {}/{}/{}", keys[0], keys[1], keys[2]))
                    }
                    "Fn::GetAtt" => {
                        let (r, a) = match arg {
                            Value::Array(a) if a.len() == 2 => (
                                a[0].as_str().ok_or("Fn::GetAtt: the resource is not a name")?.to_string(),
                                scalar_text(&self.resolve(&a[1])?).ok_or("Fn::GetAtt: the attribute is not a name")?,
                            ),
                            Value::String(s) => {
                                let (r, a) = s.split_once('.').ok_or("Fn::GetAtt takes Resource.Attribute")?;
                                (r.to_string(), a.to_string())
                            }
                            _ => return Err("Fn::GetAtt takes [resource, attribute]".into()),
                        };
                        self.get_att(&r, &a)
                    }
                    f if f.starts_with("Fn::") || f == "Condition" => {
                        Err(format!("{f} cannot be resolved from the template alone"))
                    }
                    _ => {
                        Ok(Value::Object(
                            m.iter().map(|(k, v)| Ok((k.clone(), self.resolve(v)?))).collect::<Result<_, String>>()?,
                        ))
                    }
                }
            }
            Value::Object(m) => Ok(Value::Object(
                m.iter().map(|(k, v)| Ok((k.clone(), self.resolve(v)?))).collect::<Result<_, String>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    /// A property, resolved; `AWS::NoValue` and absence are `None`.
    fn prop(&self, props: &Value, key: &str) -> Result<Option<Value>, String> {
        match props.get(key) {
            None => Ok(None),
            Some(v) if v.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") => Ok(None),
            Some(v) => self.resolve(v).map(Some).map_err(|e| format!("{key}: {e}")),
        }
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number written as a number or as a string of one (CloudFormation
/// accepts both).
fn number(v: Option<Value>, key: &str) -> Result<Option<Value>, String> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(Value::Number(n))),
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => {
                Ok(Some(if x.fract() == 0.0 && x.abs() < 9e15 { json!(x as i64) } else { json!(x) }))
            }
            _ => Err(format!("{key}: {s:?} is not a number")),
        },
        Some(other) => Err(format!("{key}: {other} is not a number")),
    }
}

/// A name property, or the logical ID when it cannot be known before
/// deployment (as CloudFormation makes one up from the logical ID).
fn name_or_id(cx: &Template<'_>, props: &Value, key: &str, id: &str, notes: &mut Vec<String>) -> String {
    match cx.prop(props, key) {
        Ok(Some(v)) => scalar_text(&v).unwrap_or_else(|| id.to_string()),
        Ok(None) => id.to_string(),
        Err(e) => {
            notes.push(format!("{id}: {e}; named {id} here"));
            id.to_string()
        }
    }
}

fn cfn_filter(cx: &Template<'_>, id: &str, p: &Value, notes: &mut Vec<String>) -> Result<Value, String> {
    let name = name_or_id(cx, p, "FilterName", id, notes);
    let pattern = cx.prop(p, "FilterPattern")?.ok_or("has no FilterPattern")?;
    let pattern = pattern.as_str().ok_or("FilterPattern is not a string")?.to_string();
    // Not used by the replay: kept as written when it cannot be resolved.
    let log_group = match cx.prop(p, "LogGroupName") {
        Ok(Some(v)) => scalar_text(&v).unwrap_or_default(),
        _ => p.get("LogGroupName").map(|v| v.to_string()).unwrap_or_default(),
    };
    let ts = cx.prop(p, "MetricTransformations")?.ok_or("has no MetricTransformations")?;
    let ts = ts.as_array().filter(|t| t.len() == 1).ok_or("MetricTransformations must hold exactly one item")?;
    let t = &ts[0];
    let text = |k: &str| t.get(k).and_then(scalar_text);
    let mut out = json!({
        "metricName": text("MetricName").ok_or("MetricTransformations: no MetricName")?,
        "metricNamespace": text("MetricNamespace").ok_or("MetricTransformations: no MetricNamespace")?,
        "metricValue": text("MetricValue").ok_or("MetricTransformations: no MetricValue")?,
    });
    if let Some(d) = number(t.get("DefaultValue").cloned(), "DefaultValue")? {
        out["defaultValue"] = d;
    }
    if let Some(u) = text("Unit") {
        out["unit"] = json!(u);
    }
    if let Some(dims) = t.get("Dimensions").and_then(Value::as_array) {
        let mut m = Map::new();
        for d in dims {
            let (k, v) = (d.get("Key").and_then(scalar_text), d.get("Value").and_then(scalar_text));
            let (k, v) = k.zip(v).ok_or("Dimensions: an item without Key and Value")?;
            m.insert(k, json!(v));
        }
        out["dimensions"] = Value::Object(m);
    }
    Ok(
        json!({ "filterName": name, "logGroupName": log_group, "filterPattern": pattern, "metricTransformations": [out] }),
    )
}

/// The alarm properties the replay reads, under their describe-alarms
/// names (the same in CloudFormation).
const ALARM_KEYS: [&str; 15] = [
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
    "Unit",
];

fn cfn_alarm(cx: &Template<'_>, id: &str, p: &Value, notes: &mut Vec<String>) -> Result<Value, String> {
    let mut out = Map::new();
    out.insert("AlarmName".into(), json!(name_or_id(cx, p, "AlarmName", id, notes)));
    for key in ALARM_KEYS {
        let mut v = cx.prop(p, key)?;
        if matches!(key, "Period" | "EvaluationPeriods" | "DatapointsToAlarm" | "Threshold") {
            v = number(v, key)?;
        }
        if let Some(v) = v {
            out.insert(key.into(), v);
        }
    }
    if let Some(w) = cx.prop(p, "EvaluationWindow")? {
        out.insert("EvaluationWindow".into(), w);
    }
    Ok(Value::Object(out))
}

/// A Terraform plan or state as `terraform show -json` prints it.
pub fn terraform(path: &str, text: &str) -> Result<Declared, IacError> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| IacError::Syntax { path: path.into(), message: format!("invalid JSON: {e}") })?;
    let root = doc.get("planned_values").or_else(|| doc.get("values")).and_then(|v| v.get("root_module")).ok_or_else(
        || IacError::Shape {
            path: path.into(),
            problem: "not `terraform show -json` output (no planned_values or values.root_module)".into(),
        },
    )?;
    let mut resources = Vec::new();
    collect(root, &mut resources);
    let mut out = Declared::default();
    let (mut filters, mut alarms) = (Vec::new(), Vec::new());
    for r in resources {
        let kind = r.get("type").and_then(Value::as_str).unwrap_or_default();
        if r.get("mode").and_then(Value::as_str).is_some_and(|m| m != "managed") {
            continue;
        }
        let address = r.get("address").and_then(Value::as_str).unwrap_or(kind).to_string();
        let values = r.get("values").cloned().unwrap_or(json!({}));
        let made = match kind {
            "aws_cloudwatch_log_metric_filter" => tf_filter(&values).map(|f| filters.push(f)),
            "aws_cloudwatch_metric_alarm" => tf_alarm(&values, &address).map(|a| alarms.push(a)),
            _ => Ok(()),
        };
        if let Err(why) = made {
            out.refused.push(format!("{address}: {why}"));
        }
    }
    out.doc = json!({ "metricFilters": filters, "MetricAlarms": alarms });
    Ok(out)
}

fn collect<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
    if let Some(rs) = module.get("resources").and_then(Value::as_array) {
        out.extend(rs);
    }
    for child in module.get("child_modules").and_then(Value::as_array).into_iter().flatten() {
        collect(child, out);
    }
}

/// An attribute the plan must know (absent: known only after apply).
fn known<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    match v.get(key) {
        Some(Value::Null) | None => Err(format!("{key} is not known until apply (or not set)")),
        Some(x) => Ok(x),
    }
}

fn tf_filter(v: &Value) -> Result<Value, String> {
    let name = known(v, "name")?.as_str().ok_or("name is not a string")?;
    let pattern = known(v, "pattern")?.as_str().ok_or("pattern is not a string")?;
    let t = known(v, "metric_transformation")?
        .as_array()
        .filter(|t| t.len() == 1)
        .map(|t| &t[0])
        .ok_or("metric_transformation must be one block")?;
    let text =
        |k: &str| known(t, k).ok().and_then(scalar_text).ok_or(format!("metric_transformation: {k} is not known"));
    let mut out =
        json!({ "metricName": text("name")?, "metricNamespace": text("namespace")?, "metricValue": text("value")? });
    // A nullable number kept as a string; "" is unset.
    match t.get("default_value") {
        Some(Value::String(s)) if s.is_empty() => {}
        Some(Value::Null) | None => {}
        Some(d) => out["defaultValue"] = number(Some(d.clone()), "default_value")?.expect("some"),
    }
    if let Some(u) = t.get("unit").and_then(Value::as_str) {
        out["unit"] = json!(u);
    }
    if let Some(d) = t.get("dimensions").and_then(Value::as_object).filter(|d| !d.is_empty()) {
        out["dimensions"] = Value::Object(d.clone());
    }
    Ok(json!({
        "filterName": name,
        "logGroupName": v.get("log_group_name").and_then(Value::as_str).unwrap_or_default(),
        // The provider trims the pattern.
        "filterPattern": pattern.trim(),
        "metricTransformations": [out],
    }))
}

fn tf_alarm(v: &Value, address: &str) -> Result<Value, String> {
    let mut out = Map::new();
    let name = v.get("alarm_name").and_then(Value::as_str).unwrap_or(address);
    out.insert("AlarmName".into(), json!(name));
    if v.get("metric_query").and_then(Value::as_array).is_some_and(|q| !q.is_empty()) {
        // import refuses metric math, naming the alarm.
        out.insert("Metrics".into(), v["metric_query"].clone());
        return Ok(Value::Object(out));
    }
    if let Some(t) = v.get("threshold_metric_id").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        out.insert("ThresholdMetricId".into(), json!(t));
        return Ok(Value::Object(out));
    }
    for (tf, aws) in [
        ("metric_name", "MetricName"),
        ("namespace", "Namespace"),
        ("period", "Period"),
        ("evaluation_periods", "EvaluationPeriods"),
        ("threshold", "Threshold"),
        ("comparison_operator", "ComparisonOperator"),
    ] {
        out.insert(aws.into(), known(v, tf)?.clone());
    }
    for (tf, aws) in [
        ("statistic", "Statistic"),
        ("extended_statistic", "ExtendedStatistic"),
        ("treat_missing_data", "TreatMissingData"),
        ("evaluate_low_sample_count_percentiles", "EvaluateLowSampleCountPercentile"),
        ("unit", "Unit"),
    ] {
        if let Some(s) = v.get(tf).and_then(Value::as_str).filter(|s| !s.is_empty()) {
            out.insert(aws.into(), json!(s));
        }
    }
    // Unset is null or 0 in a plan.
    if let Some(m) = v.get("datapoints_to_alarm").and_then(Value::as_u64).filter(|m| *m > 0) {
        out.insert("DatapointsToAlarm".into(), json!(m));
    }
    let dims: Vec<Value> = v
        .get("dimensions")
        .and_then(Value::as_object)
        .map(|d| d.iter().map(|(k, x)| json!({"Name": k, "Value": x})).collect())
        .unwrap_or_default();
    out.insert("Dimensions".into(), Value::Array(dims));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(yaml: &str) -> Declared {
        cloudformation("t.yaml", yaml).unwrap()
    }

    const HEAD: &str = r#"
Parameters:
  Env: {Type: String, Default: prod}
Mappings:
  Limits: {prod: {Threshold: "5"}}
Resources:
  Filter:
    Type: AWS::Logs::MetricFilter
    Properties:
      FilterName: !Sub "${Env}-denied"
      LogGroupName: !Ref Group
      FilterPattern: !Sub '{ $.errorCode = "${!Literal}" || $.awsRegion = "${Region}" }'
      MetricTransformations:
        - {MetricNamespace: !Join ["/", [!Ref Env, "cis"]], MetricName: !Select [1, [a, Denied]], MetricValue: "1", DefaultValue: "0"}
  Group:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: trail}
"#;

    #[test]
    fn intrinsics_the_template_decides_are_resolved() {
        let alarm = r#"
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ["${F}-alarm", {F: !Ref Filter}]
      MetricName: !GetAtt Filter.MetricTransformations.0.MetricName
      Namespace: !Sub "${Env}/cis"
      Statistic: Sum
      Period: 60
      EvaluationPeriods: "3"
      DatapointsToAlarm: !Ref AWS::NoValue
      Threshold: !FindInMap [Limits, !Ref Env, Threshold]
      ComparisonOperator: GreaterThanThreshold
"#;
        let d = template(&format!("{HEAD}{alarm}").replace("${Region}", "${AWS::Partition}"));
        assert_eq!(d.refused, Vec::<String>::new());
        let f = &d.doc["metricFilters"][0];
        assert_eq!(f["filterName"], "prod-denied");
        assert_eq!(f["logGroupName"], "trail");
        assert_eq!(f["filterPattern"], r#"{ $.errorCode = "${Literal}" || $.awsRegion = "aws" }"#);
        let t = &f["metricTransformations"][0];
        assert_eq!(
            (&t["metricNamespace"], &t["metricName"], &t["defaultValue"]),
            (&json!("prod/cis"), &json!("Denied"), &json!(0))
        );
        let a = &d.doc["MetricAlarms"][0];
        assert_eq!(a["AlarmName"], "prod-denied-alarm");
        assert_eq!((&a["MetricName"], &a["Namespace"]), (&json!("Denied"), &json!("prod/cis")));
        assert_eq!((&a["EvaluationPeriods"], &a["Threshold"]), (&json!(3), &json!(5)));
        assert!(a.get("DatapointsToAlarm").is_none());
        // And the import joins them.
        let imp = super::super::aws::import(&[("t.yaml".into(), d.doc)]).unwrap();
        assert_eq!(imp.rules.len(), 1);
        assert_eq!((imp.rules[0].alarm.threshold, imp.rules[0].alarm.evaluation_periods), (5.0, 3));
    }

    #[test]
    fn what_depends_on_the_deployment_is_refused_naming_the_resource() {
        let d = template(&HEAD.replace("${Region}", "${AWS::Region}"));
        assert_eq!(
            d.refused,
            ["AWS::Logs::MetricFilter Filter: FilterPattern: Ref AWS::Region is known only when the stack is deployed"]
        );
        let unnamed = r#"
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub "${AWS::StackName}-alarm"
      MetricName: !ImportValue SharedMetric
      Namespace: x
"#;
        let d = template(&format!("{HEAD}{unnamed}"));
        assert!(d.refused.iter().any(|r| r == "AWS::CloudWatch::Alarm Alarm: MetricName: Fn::ImportValue cannot be resolved from the template alone"), "{:?}", d.refused);
        let d = template(&format!("{HEAD}{}", unnamed.replace("!ImportValue SharedMetric", "Denied")));
        assert_eq!(d.doc["MetricAlarms"][0]["AlarmName"], "Alarm");
        assert!(d.notes[0].starts_with("Alarm: AlarmName: Ref AWS::StackName"), "{:?}", d.notes);
    }

    #[test]
    fn terraform_values_unknown_until_apply_are_refused_and_metric_math_is_passed_on_to_be_refused() {
        let plan = json!({"planned_values": {"root_module": {"resources": [
            {"address": "aws_cloudwatch_log_metric_filter.f", "mode": "managed", "type": "aws_cloudwatch_log_metric_filter",
             "values": {"name": "f", "metric_transformation": [{"name": "m", "namespace": "n", "value": "1", "default_value": ""}]}},
            {"address": "aws_cloudwatch_metric_alarm.math", "mode": "managed", "type": "aws_cloudwatch_metric_alarm",
             "values": {"alarm_name": "math", "metric_query": [{"id": "e1", "expression": "m1*2"}]}},
            {"address": "data.aws_caller_identity.me", "mode": "data", "type": "aws_caller_identity", "values": {}}
        ]}}});
        let d = terraform("plan.json", &plan.to_string()).unwrap();
        assert_eq!(d.refused, ["aws_cloudwatch_log_metric_filter.f: pattern is not known until apply (or not set)"]);
        let imp = super::super::aws::import(&[("plan.json".into(), d.doc)]).unwrap();
        assert!(imp.refused[0].starts_with("alarm math: uses metric math"), "{:?}", imp.refused);
    }
}

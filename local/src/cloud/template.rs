//! Reads `template.yaml` and resolves what the local cloud needs from it, so
//! the template that ships is the one that runs: table definitions, function
//! variables and event rules, the state machine and its substitutions.
//!
//! Intrinsics are resolved as CloudFormation would, for the ones the template
//! uses (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::Split`, `Fn::Select`,
//! `Fn::If` with `Fn::Equals`/`Fn::Not`); anything else is an error naming it.
//!
//! Function URLs (`FunctionUrlConfig`, which SAM turns into an `AWS::Lambda::Url`
//! named `<Function>Url`, or an `AWS::Lambda::Url` of the template's own) are the
//! local cloud's: `!GetAtt <Function>Url.FunctionUrl` is
//! `<endpoint>/lambda-url/<function name>/` (see [`FunctionUrl`]).
//!
//! The template's `Outputs` resolve the same way ([`Template::outputs`]): what
//! the local cloud's CloudFormation answers for its stack.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use serde_yaml::Value as Yaml;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> TemplateError {
    TemplateError::Invalid(msg.into())
}

/// Where the stack "is": names and ARNs are made the way AWS makes them.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub region: String,
    pub account: String,
}

impl Stack {
    /// The stack's ARN, `AWS::StackId`:
    /// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`, the
    /// uuid derived from the three, so the same on every start.
    pub fn id(&self) -> String {
        let Self { name, region, account } = self;
        let id = super::uuid_of(&format!("cloudformation/{account}/{region}/{name}"));
        format!("arn:aws:cloudformation:{region}:{account}:stack/{name}/{id}")
    }
}

/// A resource as the template declares it (properties still unresolved).
#[derive(Debug, Clone)]
pub struct Resource {
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
}

/// Who may call a function URL (`AuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// SigV4-signed requests only; the caller's IAM identity is in the event.
    AwsIam,
    /// Anyone.
    None,
}

impl AuthType {
    /// As the template spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwsIam => "AWS_IAM",
            Self::None => "NONE",
        }
    }
}

/// A function URL of the template, as the local cloud serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUrl {
    /// The URL's logical id: SAM's `<Function>Url`, or the `AWS::Lambda::Url`'s.
    pub logical_id: String,
    /// The logical id of the function it invokes.
    pub function: String,
    /// That function's physical name, the URL's path segment.
    pub function_name: String,
    pub auth_type: AuthType,
    /// `<endpoint>/lambda-url/<function name>/`, with AWS's trailing slash.
    pub url: String,
}

/// An output of the template, resolved: what `DescribeStacks` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    /// `Export.Name`, when the output is exported.
    pub export_name: Option<String>,
}

/// The router's default address, until [`Template::endpoint`] is set.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4566";

/// The parsed template with intrinsic resolution.
#[derive(Debug, Clone)]
pub struct Template {
    pub dir: PathBuf,
    pub stack: Stack,
    /// Where the local cloud's router listens: the base of every function URL.
    /// [`Template::load`] assumes [`DEFAULT_ENDPOINT`]; the cloud sets the
    /// address it bound before it resolves anything.
    pub endpoint: String,
    pub parameters: BTreeMap<String, Value>,
    /// Parameters declared `NoEcho`: CloudFormation reports them masked.
    pub no_echo: BTreeSet<String>,
    /// The template's `Description`.
    pub description: Option<String>,
    pub conditions: BTreeMap<String, Value>,
    pub resources: BTreeMap<String, Resource>,
    pub globals_function: Value,
    /// `Outputs`, unresolved (see [`Template::outputs`]).
    pub outputs: Map<String, Value>,
}

/// YAML (with CloudFormation's short-form tags) → JSON in long form.
fn to_json(y: &Yaml) -> Result<Value, TemplateError> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).map_err(|e| invalid(e.to_string()))?,
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(seq) => Value::Array(seq.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => return Err(invalid(format!("unsupported mapping key {other:?}"))),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let inner = to_json(&t.value)?;
            match tag {
                "Ref" => json!({ "Ref": inner }),
                // `!GetAtt A.B` is short for `Fn::GetAtt: [A, B]`.
                "GetAtt" => match inner {
                    Value::String(s) => {
                        let (res, att) = s.split_once('.').ok_or_else(|| invalid(format!("!GetAtt {s}")))?;
                        json!({ "Fn::GetAtt": [res, att] })
                    }
                    other => json!({ "Fn::GetAtt": other }),
                },
                "Condition" => json!({ "Condition": inner }),
                other => json!({ format!("Fn::{other}"): inner }),
            }
        }
    })
}

impl Template {
    pub fn load(path: &Path, stack: Stack, overrides: &BTreeMap<String, String>) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError::Read(path.to_owned(), e))?;
        Self::parse(&text, path.parent().unwrap_or(Path::new("")), stack, overrides)
    }

    /// A template from its text; `dir` is where its relative paths (`DefinitionUri`) start.
    pub fn parse(
        text: &str,
        dir: &Path,
        stack: Stack,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, TemplateError> {
        let yaml: Yaml = serde_yaml::from_str(text)?;
        let doc = to_json(&yaml)?;
        let mut parameters = BTreeMap::new();
        let mut no_echo = BTreeSet::new();
        for (name, p) in doc.get("Parameters").and_then(Value::as_object).into_iter().flatten() {
            if matches!(p.get("NoEcho"), Some(Value::Bool(true))) || p.get("NoEcho") == Some(&json!("true")) {
                no_echo.insert(name.clone());
            }
            let kind = p.get("Type").and_then(Value::as_str).unwrap_or("String");
            let raw = match overrides.get(name) {
                Some(v) => Value::String(v.clone()),
                None => p.get("Default").cloned().unwrap_or(Value::Null),
            };
            let value = match (kind, raw) {
                ("CommaDelimitedList", Value::String(s)) => {
                    Value::Array(s.split(',').map(|x| Value::String(x.trim().to_owned())).collect())
                }
                ("Number", Value::Number(n)) => Value::String(n.to_string()),
                (_, v) => v,
            };
            parameters.insert(name.clone(), value);
        }
        for name in overrides.keys() {
            if !parameters.contains_key(name) {
                return Err(invalid(format!("parameter override {name} is not a template parameter")));
            }
        }
        let conditions = doc
            .get("Conditions")
            .and_then(Value::as_object)
            .map(|m| m.clone().into_iter().collect())
            .unwrap_or_default();
        let mut resources = BTreeMap::new();
        for (id, r) in doc.get("Resources").and_then(Value::as_object).ok_or_else(|| invalid("no Resources"))? {
            resources.insert(
                id.clone(),
                Resource {
                    kind: r.get("Type").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    properties: r.get("Properties").cloned().unwrap_or_else(|| json!({})),
                    metadata: r.get("Metadata").cloned().unwrap_or_else(|| json!({})),
                },
            );
        }
        let globals_function = doc.pointer("/Globals/Function").cloned().unwrap_or_else(|| json!({}));
        let outputs = doc.get("Outputs").and_then(Value::as_object).cloned().unwrap_or_default();
        Ok(Self {
            dir: dir.to_owned(),
            stack,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            parameters,
            no_echo,
            description: doc.get("Description").and_then(Value::as_str).map(str::to_owned),
            conditions,
            resources,
            globals_function,
            outputs,
        })
    }

    /// Logical ids of the resources of one type, in order.
    pub fn of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = (&'a String, &'a Resource)> + 'a {
        self.resources.iter().filter(move |(_, r)| r.kind == kind)
    }

    fn resource(&self, id: &str) -> Result<&Resource, TemplateError> {
        self.resources.get(id).ok_or_else(|| invalid(format!("no resource {id}")))
    }

    /// The physical name AWS would give a resource: its name property if the
    /// template sets one, else `stack-LogicalId`.
    pub fn physical_name(&self, id: &str) -> Result<String, TemplateError> {
        let r = self.resource(id)?;
        let prop = match r.kind.as_str() {
            "AWS::DynamoDB::Table" => "TableName",
            "AWS::Events::EventBus" => "Name",
            "AWS::SNS::Topic" => "TopicName",
            "AWS::SQS::Queue" => "QueueName",
            "AWS::Serverless::Function" => "FunctionName",
            "AWS::Serverless::StateMachine" => "Name",
            "AWS::Logs::LogGroup" => "LogGroupName",
            "AWS::IAM::Role" => "RoleName",
            "AWS::IAM::ManagedPolicy" => "ManagedPolicyName",
            _ => "",
        };
        match r.properties.get(prop) {
            Some(v) if !prop.is_empty() => self.resolve_str(v),
            _ => Ok(format!("{}-{id}", self.stack.name)),
        }
    }

    fn arn(&self, id: &str) -> Result<String, TemplateError> {
        let Stack { region, account, .. } = &self.stack;
        let name = self.physical_name(id)?;
        let r = self.resource(id)?;
        // IAM names sit under a path, `/` unless the template sets one.
        let iam_path = || match r.properties.get("Path") {
            Some(p) => self.resolve_str(p),
            None => Ok("/".to_owned()),
        };
        Ok(match r.kind.as_str() {
            "AWS::DynamoDB::Table" => format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
            "AWS::Events::EventBus" => format!("arn:aws:events:{region}:{account}:event-bus/{name}"),
            "AWS::SNS::Topic" => format!("arn:aws:sns:{region}:{account}:{name}"),
            "AWS::SQS::Queue" => format!("arn:aws:sqs:{region}:{account}:{name}"),
            "AWS::Serverless::Function" => format!("arn:aws:lambda:{region}:{account}:function:{name}"),
            "AWS::Serverless::StateMachine" => format!("arn:aws:states:{region}:{account}:stateMachine:{name}"),
            "AWS::Logs::LogGroup" => format!("arn:aws:logs:{region}:{account}:log-group:{name}:*"),
            "AWS::IAM::Role" => format!("arn:aws:iam::{account}:role{}{name}", iam_path()?),
            "AWS::IAM::ManagedPolicy" => format!("arn:aws:iam::{account}:policy{}{name}", iam_path()?),
            other => format!("arn:aws:local:{region}:{account}:{other}/{name}"),
        })
    }

    /// `Ref` of a resource, per the resource type's documented return value.
    fn reference(&self, id: &str) -> Result<Value, TemplateError> {
        if let Some(p) = self.parameters.get(id) {
            return Ok(p.clone());
        }
        let Stack { name, region, account } = &self.stack;
        match id {
            "AWS::Region" => return Ok(json!(region)),
            "AWS::AccountId" => return Ok(json!(account)),
            "AWS::StackName" => return Ok(json!(name)),
            "AWS::StackId" => return Ok(json!(self.stack.id())),
            "AWS::NotificationARNs" => return Ok(json!([])),
            "AWS::Partition" => return Ok(json!("aws")),
            "AWS::URLSuffix" => return Ok(json!("amazonaws.com")),
            "AWS::NoValue" => return Ok(Value::Null),
            _ => {}
        }
        let r = self.resource(id)?;
        Ok(match r.kind.as_str() {
            "AWS::SNS::Topic" | "AWS::Serverless::StateMachine" | "AWS::IAM::ManagedPolicy" => json!(self.arn(id)?),
            "AWS::SQS::Queue" => json!(format!("http://sqs.{region}.localhost/{account}/{}", self.physical_name(id)?)),
            _ => json!(self.physical_name(id)?),
        })
    }

    fn get_att(&self, id: &str, att: &str) -> Result<Value, TemplateError> {
        match att {
            "FunctionUrl" => Ok(json!(self.function_url(id)?.url)),
            // `AWS::Lambda::Url`'s other attribute: the function it invokes.
            "FunctionArn" => self.arn(&self.function_url(id)?.function).map(Value::String),
            "Arn" => Ok(json!(self.arn(id)?)),
            "Name" | "QueueName" | "TopicName" => Ok(json!(self.physical_name(id)?)),
            other => Err(invalid(format!("Fn::GetAtt {id}.{other} is not supported locally"))),
        }
    }

    fn condition(&self, name: &str) -> Result<bool, TemplateError> {
        let c = self.conditions.get(name).ok_or_else(|| invalid(format!("no condition {name}")))?;
        self.truth(c)
    }

    fn truth(&self, v: &Value) -> Result<bool, TemplateError> {
        let obj = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| invalid(format!("condition {v}")))?;
        let (f, args) = obj.iter().next().ok_or_else(|| invalid("empty condition"))?;
        match f.as_str() {
            "Fn::Equals" => {
                let a = args.as_array().filter(|a| a.len() == 2).ok_or_else(|| invalid("Fn::Equals takes 2"))?;
                // CloudFormation compares the two as strings: a Number
                // parameter's 10 equals "10".
                Ok(comparable(self.resolve(&a[0])?) == comparable(self.resolve(&a[1])?))
            }
            "Fn::Not" => Ok(!self.truth(args.get(0).ok_or_else(|| invalid("Fn::Not takes 1"))?)?),
            "Fn::And" => args.as_array().into_iter().flatten().try_fold(true, |acc, c| Ok(acc && self.truth(c)?)),
            "Fn::Or" => args.as_array().into_iter().flatten().try_fold(false, |acc, c| Ok(acc || self.truth(c)?)),
            "Condition" => self.condition(args.as_str().unwrap_or_default()),
            other => Err(invalid(format!("condition function {other}"))),
        }
    }

    /// Resolves every intrinsic in `v`.
    pub fn resolve(&self, v: &Value) -> Result<Value, TemplateError> {
        match v {
            Value::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|i| self.resolve(i))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .filter(|v| !v.is_null())
                    .collect(),
            )),
            Value::Object(obj) if obj.len() == 1 => {
                let (k, args) = obj.iter().next().ok_or_else(|| invalid("empty object"))?;
                match k.as_str() {
                    "Ref" => self.reference(args.as_str().ok_or_else(|| invalid("Ref takes a name"))?),
                    "Fn::GetAtt" => {
                        let a =
                            args.as_array().filter(|a| a.len() == 2).ok_or_else(|| invalid("Fn::GetAtt takes 2"))?;
                        self.get_att(a[0].as_str().unwrap_or_default(), a[1].as_str().unwrap_or_default())
                    }
                    "Fn::Sub" => self.sub(args).map(Value::String),
                    "Fn::Join" => {
                        let a = args.as_array().filter(|a| a.len() == 2).ok_or_else(|| invalid("Fn::Join takes 2"))?;
                        let delim = a[0].as_str().unwrap_or_default();
                        let items = self.resolve(&a[1])?;
                        let parts: Vec<String> = items
                            .as_array()
                            .ok_or_else(|| invalid("Fn::Join needs a list"))?
                            .iter()
                            .map(|p| p.as_str().map(str::to_owned).ok_or_else(|| invalid(format!("Fn::Join item {p}"))))
                            .collect::<Result<_, _>>()?;
                        Ok(json!(parts.join(delim)))
                    }
                    "Fn::Split" => {
                        let a = args.as_array().filter(|a| a.len() == 2).ok_or_else(|| invalid("Fn::Split takes 2"))?;
                        let delim = a[0].as_str().unwrap_or_default();
                        let s = self.resolve(&a[1])?;
                        let s = s.as_str().ok_or_else(|| invalid("Fn::Split needs a string"))?;
                        Ok(Value::Array(s.split(delim).map(|p| json!(p)).collect()))
                    }
                    "Fn::Select" => {
                        let a =
                            args.as_array().filter(|a| a.len() == 2).ok_or_else(|| invalid("Fn::Select takes 2"))?;
                        let i = self.resolve(&a[0])?;
                        let i = i
                            .as_u64()
                            .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
                            .ok_or_else(|| invalid("Fn::Select index"))?;
                        let list = self.resolve(&a[1])?;
                        list.get(usize::try_from(i).unwrap_or(usize::MAX))
                            .cloned()
                            .ok_or_else(|| invalid("Fn::Select out of range"))
                    }
                    "Fn::If" => {
                        let a = args.as_array().filter(|a| a.len() == 3).ok_or_else(|| invalid("Fn::If takes 3"))?;
                        let branch = if self.condition(a[0].as_str().unwrap_or_default())? { &a[1] } else { &a[2] };
                        self.resolve(branch)
                    }
                    k if k.starts_with("Fn::") => Err(invalid(format!("{k} is not supported locally"))),
                    _ => Ok(json!({ k.clone(): self.resolve(args)? })),
                }
            }
            Value::Object(obj) => {
                let mut out = Map::new();
                for (k, v) in obj {
                    let r = self.resolve(v)?;
                    if !r.is_null() || v.is_null() {
                        out.insert(k.clone(), r);
                    }
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    pub fn resolve_str(&self, v: &Value) -> Result<String, TemplateError> {
        match self.resolve(v)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(invalid(format!("expected a string, got {other}"))),
        }
    }

    /// `Fn::Sub`: `${Name}`, `${Res.Att}`, `${AWS::…}` and `${!Literal}`.
    fn sub(&self, args: &Value) -> Result<String, TemplateError> {
        let (text, vars) = match args {
            Value::String(s) => (s.as_str(), HashMap::new()),
            Value::Array(a) if a.len() == 2 => {
                let mut vars = HashMap::new();
                for (k, v) in a[1].as_object().into_iter().flatten() {
                    vars.insert(k.clone(), self.resolve_str(v)?);
                }
                (a[0].as_str().ok_or_else(|| invalid("Fn::Sub template"))?, vars)
            }
            other => return Err(invalid(format!("Fn::Sub {other}"))),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').ok_or_else(|| invalid(format!("unclosed ${{ in {text}")))? + start;
            let name = &rest[start + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(v);
            } else if let Some((res, att)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                out.push_str(&self.resolve_str(&self.get_att(res, att)?)?);
            } else {
                out.push_str(&self.resolve_str(&self.reference(name)?)?);
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A function's environment: Globals merged under its own, resolved.
    pub fn function_environment(&self, id: &str) -> Result<HashMap<String, String>, TemplateError> {
        let mut vars = HashMap::new();
        for source in [&self.globals_function, &self.resource(id)?.properties] {
            if let Some(v) = source.pointer("/Environment/Variables").and_then(Value::as_object) {
                for (k, val) in v {
                    vars.insert(k.clone(), self.resolve_str(val)?);
                }
            }
        }
        Ok(vars)
    }

    /// A function's `Timeout` (its own, else Globals', else Lambda's default of
    /// 3 s), which the function host enforces as Lambda does.
    pub fn function_timeout(&self, id: &str) -> Result<std::time::Duration, TemplateError> {
        let own = self.resource(id)?.properties.get("Timeout").cloned();
        let Some(value) = own.or_else(|| self.globals_function.get("Timeout").cloned()) else {
            return Ok(std::time::Duration::from_secs(3));
        };
        let seconds = self.resolve_str(&value)?;
        // Lambda's range: 1 to 900 seconds ("Configure Lambda function timeout").
        match seconds.parse::<u64>() {
            Ok(s) if (1..=900).contains(&s) => Ok(std::time::Duration::from_secs(s)),
            _ => Err(invalid(format!("function {id}: Timeout {seconds:?} is not 1 to 900 seconds"))),
        }
    }

    /// The function's `MemorySize` in MB (its own, else `Globals`, else
    /// Lambda's default of 128): what a GB-second of it is billed on.
    pub fn function_memory_mb(&self, id: &str) -> Result<u32, TemplateError> {
        let own = self.resource(id)?.properties.get("MemorySize").cloned();
        let Some(value) = own.or_else(|| self.globals_function.get("MemorySize").cloned()) else {
            return Ok(128);
        };
        let mb = self.resolve_str(&value)?;
        // Lambda's range: 128 to 10,240 MB ("Configure Lambda function memory").
        match mb.parse::<u32>() {
            Ok(m) if (128..=10_240).contains(&m) => Ok(m),
            _ => Err(invalid(format!("function {id}: MemorySize {mb:?} is not 128 to 10240 MB"))),
        }
    }

    /// A function's `ReservedConcurrentExecutions` (`None`: unreserved, also
    /// where the template gives `AWS::NoValue`).
    pub fn function_reserved_concurrency(&self, id: &str) -> Result<Option<u32>, TemplateError> {
        let Some(value) = self.resource(id)?.properties.get("ReservedConcurrentExecutions").cloned() else {
            return Ok(None);
        };
        match comparable(self.resolve(&value)?) {
            Value::Null => Ok(None),
            Value::String(n) => match n.parse::<u32>() {
                Ok(n) => Ok(Some(n)),
                Err(_) => Err(invalid(format!("function {id}: ReservedConcurrentExecutions {n:?} is not a count"))),
            },
            other => Err(invalid(format!("function {id}: ReservedConcurrentExecutions {other}"))),
        }
    }

    /// The SQS queue (by name) a function's failed asynchronous invocations go
    /// to: `EventInvokeConfig.DestinationConfig.OnFailure` of type SQS.
    pub fn function_failure_queue(&self, id: &str) -> Result<Option<String>, TemplateError> {
        let Some(on_failure) =
            self.resource(id)?.properties.pointer("/EventInvokeConfig/DestinationConfig/OnFailure").cloned()
        else {
            return Ok(None);
        };
        if on_failure.get("Type").and_then(Value::as_str) != Some("SQS") {
            return Ok(None);
        }
        let arn = self.resolve_str(on_failure.get("Destination").unwrap_or(&Value::Null))?;
        let name = arn.rsplit(':').next().filter(|n| !n.is_empty());
        name.map(str::to_owned).map(Some).ok_or_else(|| invalid(format!("function {id}: OnFailure queue {arn:?}")))
    }

    /// The binary a function runs (`Metadata.BuildProperties.Binary`).
    pub fn function_binary(&self, id: &str) -> Result<String, TemplateError> {
        self.resource(id)?
            .metadata
            .pointer("/BuildProperties/Binary")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("function {id} has no Metadata.BuildProperties.Binary")))
    }

    /// Every function URL: one per function with `FunctionUrlConfig` (SAM's
    /// `<Function>Url`) and one per `AWS::Lambda::Url`. An `AuthType` other than
    /// `AWS_IAM` or `NONE`, or an `InvokeMode` other than `BUFFERED`, is an error.
    pub fn function_urls(&self) -> Result<Vec<FunctionUrl>, TemplateError> {
        let mut urls = Vec::new();
        for (id, r) in self.of_type("AWS::Serverless::Function") {
            if let Some(config) = r.properties.get("FunctionUrlConfig") {
                urls.push(self.url_of(&format!("{id}Url"), id, config)?);
            }
        }
        for (id, r) in self.of_type("AWS::Lambda::Url") {
            let target = self.resolve_str(r.properties.get("TargetFunctionArn").unwrap_or(&Value::Null))?;
            let name = target.split_once(":function:").map_or(target.as_str(), |(_, rest)| rest);
            let name = name.split(':').next().unwrap_or(name);
            let function = self
                .of_type("AWS::Serverless::Function")
                .map(|(f, _)| f)
                .find(|f| self.physical_name(f).is_ok_and(|n| n == name))
                .ok_or_else(|| invalid(format!("{id}: TargetFunctionArn {target} is no function of the template")))?;
            urls.push(self.url_of(id, function, &r.properties)?);
        }
        Ok(urls)
    }

    /// The function URL whose logical id is `id`.
    pub fn function_url(&self, id: &str) -> Result<FunctionUrl, TemplateError> {
        self.function_urls()?.into_iter().find(|u| u.logical_id == id).ok_or_else(|| {
            invalid(format!(
                "Fn::GetAtt {id}.FunctionUrl: no function URL {id} (a function with FunctionUrlConfig has <Function>Url)"
            ))
        })
    }

    fn url_of(&self, id: &str, function: &str, config: &Value) -> Result<FunctionUrl, TemplateError> {
        let auth = config.get("AuthType").ok_or_else(|| invalid(format!("{id}: no AuthType")))?;
        let auth_type = match self.resolve_str(auth)?.as_str() {
            "AWS_IAM" => AuthType::AwsIam,
            "NONE" => AuthType::None,
            other => return Err(invalid(format!("{id}: AuthType {other:?} is neither AWS_IAM nor NONE"))),
        };
        if let Some(mode) = config.get("InvokeMode").map(|m| self.resolve_str(m)).transpose()?
            && mode != "BUFFERED"
        {
            return Err(invalid(format!("{id}: InvokeMode {mode} is not served locally (only BUFFERED)")));
        }
        let function_name = self.physical_name(function)?;
        Ok(FunctionUrl {
            logical_id: id.to_owned(),
            function: function.to_owned(),
            url: format!("{}/lambda-url/{function_name}/", self.endpoint.trim_end_matches('/')),
            function_name,
            auth_type,
        })
    }

    /// The template's outputs, resolved, in the template's order; an output
    /// whose `Condition` is false is left out, as CloudFormation leaves it out.
    /// A value that does not resolve to a string is an error naming the output.
    pub fn outputs(&self) -> Result<Vec<StackOutput>, TemplateError> {
        let mut out = Vec::new();
        for (key, o) in &self.outputs {
            if let Some(c) = o.get("Condition").and_then(Value::as_str)
                && !self.condition(c)?
            {
                continue;
            }
            let named = |e: TemplateError| invalid(format!("Outputs.{key}: {e}"));
            let value = self.resolve_str(o.get("Value").unwrap_or(&Value::Null)).map_err(named)?;
            let text = |v: Option<&Value>| v.map(|v| self.resolve_str(v)).transpose().map_err(named);
            out.push(StackOutput {
                key: key.clone(),
                value,
                description: text(o.get("Description"))?,
                export_name: text(o.pointer("/Export/Name"))?,
            });
        }
        Ok(out)
    }

    /// The parameters as CloudFormation reports a stack's: their values as
    /// resolved (overrides, else defaults), lists comma-joined, `NoEcho` ones
    /// as `****`.
    pub fn parameter_values(&self) -> Vec<(String, String)> {
        self.parameters
            .iter()
            .map(|(name, v)| {
                let value = match v {
                    _ if self.no_echo.contains(name) => "****".to_owned(),
                    Value::String(s) => s.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// The state machine definition with its `DefinitionSubstitutions` applied.
    pub fn state_machine_definition(&self, id: &str) -> Result<String, TemplateError> {
        let r = self.resource(id)?;
        let uri = r
            .properties
            .get("DefinitionUri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{id} has no DefinitionUri")))?;
        let path = self.dir.join(uri);
        let mut text = std::fs::read_to_string(&path).map_err(|e| TemplateError::Read(path.clone(), e))?;
        for (k, v) in r.properties.get("DefinitionSubstitutions").and_then(Value::as_object).into_iter().flatten() {
            text = text.replace(&format!("${{{k}}}"), &self.resolve_str(v)?);
        }
        if let Some(i) = text.find("${") {
            let end = text[i..].find('}').map_or(text.len(), |e| i + e + 1);
            return Err(invalid(format!("{id}: {} has no substitution", &text[i..end])));
        }
        Ok(text)
    }
}

/// A scalar as CloudFormation compares it: numbers and booleans as their
/// strings; anything else as it is.
fn comparable(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let stack = Stack { name: "local".into(), region: "us-east-1".into(), account: "123456789012".into() };
        Template::load(&path, stack, &BTreeMap::from([("PollIntervalSeconds".into(), "10".into())])).unwrap()
    }

    #[test]
    fn every_function_has_its_binary_and_resolvable_environment() {
        let t = template();
        let mut binaries = Vec::new();
        for (id, _) in t.of_type("AWS::Serverless::Function") {
            binaries.push(t.function_binary(id).unwrap());
            t.function_environment(id).unwrap();
        }
        binaries.sort();
        // One function per binary the functions crate builds, and no other.
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions/src/bin");
        let mut built: Vec<String> = std::fs::read_dir(bin)
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".rs").map(str::to_owned))
            .collect();
        built.sort();
        assert_eq!(binaries, built);
        let undelivered = t.physical_name("UndeliveredEventsQueue").unwrap();
        assert_eq!(t.function_failure_queue("OnImagePushFunction").unwrap(), Some(undelivered.clone()));
        assert_eq!(t.function_failure_queue("OnEcsEventFunction").unwrap(), Some(undelivered));
        assert_eq!(t.function_failure_queue("UpdateServiceFunction").unwrap(), None, "invoked synchronously");
    }

    #[test]
    fn the_event_functions_have_reserved_concurrency_unless_the_parameter_is_zero() {
        let t = template();
        assert_eq!(t.function_reserved_concurrency("OnImagePushFunction").unwrap(), Some(50));
        assert_eq!(t.function_reserved_concurrency("OnEcsEventFunction").unwrap(), Some(50));
        assert_eq!(t.function_reserved_concurrency("UpdateServiceFunction").unwrap(), None);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        let stack = Stack { name: "local".into(), region: "us-east-1".into(), account: "123456789012".into() };
        for (given, expected) in [("0", None), ("25", Some(25))] {
            let params = BTreeMap::from([("EventFunctionConcurrency".into(), given.into())]);
            let t = Template::load(&path, stack.clone(), &params).unwrap();
            assert_eq!(t.function_reserved_concurrency("OnImagePushFunction").unwrap(), expected, "{given}");
        }
    }

    #[test]
    fn state_machine_definition_is_fully_substituted() {
        let t = template();
        let (id, _) = t.of_type("AWS::Serverless::StateMachine").next().unwrap();
        let def: Value = serde_json::from_str(&t.state_machine_definition(id).unwrap()).unwrap();
        let f = def.pointer("/States/Register new revision/Parameters/FunctionName").unwrap().as_str().unwrap();
        assert!(f.starts_with("arn:aws:lambda:us-east-1:123456789012:function:"), "{f}");
    }

    #[test]
    fn overrides_and_sub() {
        let t = template();
        assert_eq!(t.parameters["PollIntervalSeconds"], json!("10"));
        assert_eq!(t.sub(&json!("${AWS::StackName}-x-${!Literal}")).unwrap(), "local-x-${Literal}");
        let stack = Stack { name: "s".into(), region: "r".into(), account: "a".into() };
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
        assert!(Template::load(&path, stack, &BTreeMap::from([("Nope".into(), "1".into())])).is_err());
    }

    const URLS: &str = r#"
Resources:
  ApproveFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: approve}}
    Properties:
      FunctionUrlConfig:
        AuthType: AWS_IAM
  OpenFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: open}}
    Properties:
      FunctionName: open-one
  OpenUrl:
    Type: AWS::Lambda::Url
    Properties:
      AuthType: NONE
      TargetFunctionArn: !GetAtt OpenFunction.Arn
  CallerFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: caller}}
    Properties:
      Environment:
        Variables:
          APPROVAL_URL: !GetAtt ApproveFunctionUrl.FunctionUrl
          APPROVAL_ARN: !GetAtt ApproveFunctionUrl.FunctionArn
          OPEN_URL: !Sub "${OpenUrl.FunctionUrl}?x=1"
"#;

    fn parse(text: &str) -> Result<Template, TemplateError> {
        let stack = Stack { name: "s".into(), region: "us-east-1".into(), account: "123456789012".into() };
        let mut t = Template::parse(text, Path::new("."), stack, &BTreeMap::new())?;
        t.endpoint = "http://127.0.0.1:7000".into();
        Ok(t)
    }

    #[test]
    fn function_urls_are_the_local_clouds() {
        let t = parse(URLS).unwrap();
        let env = t.function_environment("CallerFunction").unwrap();
        assert_eq!(env["APPROVAL_URL"], "http://127.0.0.1:7000/lambda-url/s-ApproveFunction/");
        assert_eq!(env["APPROVAL_ARN"], "arn:aws:lambda:us-east-1:123456789012:function:s-ApproveFunction");
        assert_eq!(env["OPEN_URL"], "http://127.0.0.1:7000/lambda-url/open-one/?x=1");
        let urls = t.function_urls().unwrap();
        let auth: Vec<_> = urls.iter().map(|u| (u.logical_id.as_str(), u.function.as_str(), u.auth_type)).collect();
        assert_eq!(
            auth,
            [("ApproveFunctionUrl", "ApproveFunction", AuthType::AwsIam), ("OpenUrl", "OpenFunction", AuthType::None)]
        );
    }

    #[test]
    fn unknown_function_urls_and_auth_types_are_errors_naming_them() {
        let t = parse(&URLS.replace("ApproveFunctionUrl.FunctionUrl", "NopeFunctionUrl.FunctionUrl")).unwrap();
        let err = t.function_environment("CallerFunction").unwrap_err().to_string();
        assert!(err.contains("Fn::GetAtt NopeFunctionUrl.FunctionUrl"), "{err}");
        let t = parse(&URLS.replace("AuthType: AWS_IAM", "AuthType: COGNITO")).unwrap();
        let err = t.function_urls().unwrap_err().to_string();
        assert!(err.contains("ApproveFunctionUrl: AuthType \"COGNITO\""), "{err}");
        let t = parse(&URLS.replace("AuthType: NONE", "AuthType: NONE\n      InvokeMode: RESPONSE_STREAM")).unwrap();
        assert!(t.function_urls().unwrap_err().to_string().contains("OpenUrl: InvokeMode RESPONSE_STREAM"));
    }
}

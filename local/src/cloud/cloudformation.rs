//! CloudFormation for the local cloud's own stack: the query API (`Action=…&
//! Version=2010-05-15`, XML in CloudFormation's namespace) answering
//! `DescribeStacks`, `ListStacks`, `ListStackResources`,
//! `DescribeStackResource` and `DescribeStackResources` from the template as
//! the local cloud resolved it. So a client that finds the stack's resources
//! through its outputs (`aws cloudformation describe-stacks`) needs nothing
//! but `AWS_ENDPOINT_URL`.
//!
//! The stack is fixed when the cloud starts ([`StackDescription::of`]):
//! `CREATE_COMPLETE`, created then, its outputs resolved as the functions'
//! variables are. It is in the stack's region only: a request signed for
//! another region finds no stack, as it would on AWS. Any other CloudFormation
//! action is `InvalidAction` (400): the local cloud creates its resources
//! itself and has no stacks to change.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::Cloud;
use super::function_url::Scope;
use super::template::{StackOutput, Template, TemplateError};
use crate::sim::api::elb::params::Params;
use crate::sim::api::elb::xml::{Xml, escape};

/// The API version of every CloudFormation request.
pub const VERSION: &str = "2010-05-15";
/// The namespace of CloudFormation's responses and errors.
pub const NAMESPACE: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
/// The actions served; the rest are `InvalidAction`.
pub const ACTIONS: [&str; 5] =
    ["DescribeStacks", "ListStacks", "ListStackResources", "DescribeStackResource", "DescribeStackResources"];

/// A resource of the stack as CloudFormation lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    /// The CloudFormation type: a SAM resource's is the type SAM turns it into
    /// (`AWS::Serverless::Function` is an `AWS::Lambda::Function`).
    pub kind: String,
    /// What `Ref` resolves to locally (a function URL's: its function's ARN).
    pub physical_id: String,
}

/// The local stack as `DescribeStacks` reports it.
#[derive(Debug, Clone)]
pub struct StackDescription {
    pub name: String,
    /// The stack's ARN ([`Stack::id`](super::template::Stack::id)).
    pub id: String,
    pub region: String,
    /// The template's `Description`.
    pub description: Option<String>,
    pub created: DateTime<Utc>,
    /// Every template parameter, as resolved (see [`Template::parameter_values`]).
    pub parameters: Vec<(String, String)>,
    pub outputs: Vec<StackOutput>,
    /// `CAPABILITY_IAM` when the stack makes IAM resources (what `samconfig.toml`
    /// deploys with), `CAPABILITY_NAMED_IAM` when one of them is named.
    pub capabilities: Vec<&'static str>,
    pub resources: Vec<StackResource>,
}

impl StackDescription {
    /// The stack of `template`, created at `created`. An output that does not
    /// resolve is an error naming it: the cloud does not start without its
    /// outputs, which the operator CLI needs.
    pub fn of(template: &Template, created: DateTime<Utc>) -> Result<Self, TemplateError> {
        Ok(Self {
            name: template.stack.name.clone(),
            id: template.stack.id(),
            region: template.stack.region.clone(),
            description: template.description.clone(),
            created,
            parameters: template.parameter_values(),
            outputs: template.outputs()?,
            capabilities: capabilities(template),
            resources: resources(template)?,
        })
    }

    /// The value of output `key`.
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs.iter().find(|o| o.key == key).map(|o| o.value.as_str())
    }

    /// Whether `name_or_id` names this stack: its name or its ARN.
    pub fn is_named(&self, name_or_id: &str) -> bool {
        name_or_id == self.name || name_or_id == self.id
    }
}

fn capabilities(template: &Template) -> Vec<&'static str> {
    let iam: Vec<_> = template.resources.values().filter(|r| r.kind.starts_with("AWS::IAM::")).collect();
    // SAM makes a role for every function that names none.
    let sam_roles = template.of_type("AWS::Serverless::Function").any(|(_, r)| r.properties.get("Role").is_none());
    let named = iam.iter().any(|r| {
        ["RoleName", "ManagedPolicyName", "UserName", "GroupName"].iter().any(|p| r.properties.get(*p).is_some())
    });
    match (named, !iam.is_empty() || sam_roles) {
        (true, _) => vec!["CAPABILITY_NAMED_IAM"],
        (false, true) => vec!["CAPABILITY_IAM"],
        (false, false) => Vec::new(),
    }
}

/// The template's resources, SAM's as the type they become, and the
/// `<Function>Url` SAM adds for each `FunctionUrlConfig`. Not listed: the
/// roles, permissions, rules and invoke configs SAM also generates.
fn resources(template: &Template) -> Result<Vec<StackResource>, TemplateError> {
    let mut out = Vec::new();
    for (id, r) in &template.resources {
        let kind = match r.kind.as_str() {
            "AWS::Serverless::Function" => "AWS::Lambda::Function",
            "AWS::Serverless::StateMachine" => "AWS::StepFunctions::StateMachine",
            "AWS::Serverless::SimpleTable" => "AWS::DynamoDB::Table",
            "AWS::Serverless::LayerVersion" => "AWS::Lambda::LayerVersion",
            "AWS::Serverless::Api" => "AWS::ApiGateway::RestApi",
            "AWS::Serverless::HttpApi" => "AWS::ApiGatewayV2::Api",
            other => other,
        };
        let physical_id = match r.kind.as_str() {
            "AWS::Lambda::Url" => template.resolve_str(&json!({"Fn::GetAtt": [id, "FunctionArn"]}))?,
            _ => template.resolve_str(&json!({"Ref": id}))?,
        };
        out.push(StackResource { logical_id: id.clone(), kind: kind.to_owned(), physical_id });
    }
    for url in template.function_urls()? {
        if !template.resources.contains_key(&url.logical_id) {
            let physical_id = template.resolve_str(&json!({"Fn::GetAtt": [url.function, "Arn"]}))?;
            out.push(StackResource { logical_id: url.logical_id, kind: "AWS::Lambda::Url".into(), physical_id });
        }
    }
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(out)
}

/// Whether a request to `/` is CloudFormation's: signed for service
/// `cloudformation`, or a form whose `Version` is CloudFormation's.
pub(super) fn is_cloudformation(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> bool {
    if Scope::of(headers, query).is_some_and(|s| s.service == "cloudformation") {
        return true;
    }
    // Only forms are read: the bodies of JSON and CBOR calls on their way to moto are not.
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    params(query, if form { body } else { b"" }).get("Version") == Some(VERSION)
}

fn params(query: Option<&str>, body: &[u8]) -> Params {
    let mut params = Params::parse(body);
    if let Some(q) = query {
        params.0.extend(Params::parse(q.as_bytes()).0);
    }
    params
}

/// A CloudFormation error: `ValidationError` for a stack or resource that is
/// not there, as CloudFormation answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
struct CfnError {
    code: &'static str,
    message: String,
}

impl CfnError {
    fn validation(message: impl Into<String>) -> Self {
        Self { code: "ValidationError", message: message.into() }
    }

    fn no_stack(name: &str) -> Self {
        Self::validation(format!("Stack with id {name} does not exist"))
    }

    fn missing(member: &str) -> Self {
        Self::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }

    fn into_response(self, request_id: &str) -> Response {
        let body = format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            self.code,
            escape(&self.message),
            escape(request_id),
        );
        xml_response(StatusCode::BAD_REQUEST, body, request_id)
    }
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response {
    let mut r = (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", id);
    }
    r
}

/// Serves one CloudFormation request (see the module documentation).
pub(super) fn serve(cloud: &Cloud, headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Response {
    let params = params(query, body);
    let request_id = cloud.next_id();
    // Unsigned requests (curl) are taken as the stack's region.
    let here = Scope::of(headers, query).is_none_or(|s| s.region == cloud.stack.region);
    let stack = here.then_some(&cloud.described);
    let action = params.get("Action").unwrap_or_default();
    let result = match action {
        "DescribeStacks" => describe_stacks(stack, &params),
        "ListStacks" => Ok(list_stacks(stack, &params)),
        "ListStackResources" => list_stack_resources(stack, &params),
        "DescribeStackResource" => describe_stack_resource(stack, &params),
        "DescribeStackResources" => describe_stack_resources(stack, &params),
        "" => Err(CfnError { code: "MissingAction", message: "The request must contain the parameter Action".into() }),
        other => Err(CfnError {
            code: "InvalidAction",
            message: format!(
                "CloudFormation {other} is not served by the local cloud: it answers {} for its own stack",
                ACTIONS.join(", ")
            ),
        }),
    };
    match result {
        Ok(xml) => {
            let body = format!(
                "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{xml}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
                escape(&request_id)
            );
            xml_response(StatusCode::OK, body, &request_id)
        }
        Err(e) => e.into_response(&request_id),
    }
}

/// The stack `name` names (its name or ARN), else CloudFormation's error.
fn named<'a>(stack: Option<&'a StackDescription>, name: &str) -> Result<&'a StackDescription, CfnError> {
    stack.filter(|s| s.is_named(name)).ok_or_else(|| CfnError::no_stack(name))
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, CfnError> {
    let member = format!("{}{}", name[..1].to_ascii_lowercase(), &name[1..]);
    params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| CfnError::missing(&member))
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `DescribeStacks`: the stack by name or ARN; with no `StackName`, every stack (this one).
fn describe_stacks(stack: Option<&StackDescription>, params: &Params) -> Result<String, CfnError> {
    let stack = match params.get("StackName").filter(|n| !n.is_empty()) {
        Some(name) => Some(named(stack, name)?),
        None => stack,
    };
    let mut x = Xml::default();
    x.open("Stacks");
    if let Some(s) = stack {
        x.open("member").text("StackId", &s.id).text("StackName", &s.name).opt("Description", s.description.as_ref());
        x.open("Parameters");
        for (key, value) in &s.parameters {
            x.open("member").text("ParameterKey", key).text("ParameterValue", value).close("member");
        }
        x.close("Parameters").text("CreationTime", timestamp(s.created));
        x.open("RollbackConfiguration").close("RollbackConfiguration");
        x.text("StackStatus", "CREATE_COMPLETE").text("DisableRollback", false);
        x.open("NotificationARNs").close("NotificationARNs");
        x.open("Capabilities");
        for c in &s.capabilities {
            x.text("member", c);
        }
        x.close("Capabilities").open("Outputs");
        for o in &s.outputs {
            x.open("member").text("OutputKey", &o.key).text("OutputValue", &o.value);
            x.opt("Description", o.description.as_ref()).opt("ExportName", o.export_name.as_ref()).close("member");
        }
        x.close("Outputs").open("Tags").close("Tags").text("EnableTerminationProtection", false);
        x.open("DriftInformation").text("StackDriftStatus", "NOT_CHECKED").close("DriftInformation");
        x.close("member");
    }
    x.close("Stacks");
    Ok(x.finish())
}

/// `ListStacks`: this stack, unless `StackStatusFilter` leaves `CREATE_COMPLETE` out.
fn list_stacks(stack: Option<&StackDescription>, params: &Params) -> String {
    let filter = params.list("StackStatusFilter");
    let stack = stack.filter(|_| filter.is_empty() || filter.iter().any(|f| f == "CREATE_COMPLETE"));
    let mut x = Xml::default();
    x.open("StackSummaries");
    if let Some(s) = stack {
        x.open("member").text("StackId", &s.id).text("StackName", &s.name);
        x.opt("TemplateDescription", s.description.as_ref()).text("CreationTime", timestamp(s.created));
        x.text("StackStatus", "CREATE_COMPLETE");
        x.open("DriftInformation").text("StackDriftStatus", "NOT_CHECKED").close("DriftInformation");
        x.close("member");
    }
    x.close("StackSummaries");
    x.finish()
}

fn drift(x: &mut Xml) {
    x.open("DriftInformation").text("StackResourceDriftStatus", "NOT_CHECKED").close("DriftInformation");
}

/// `ListStackResources`: every resource of [`StackDescription::resources`].
fn list_stack_resources(stack: Option<&StackDescription>, params: &Params) -> Result<String, CfnError> {
    let s = named(stack, required(params, "StackName")?)?;
    let mut x = Xml::default();
    x.open("StackResourceSummaries");
    for r in &s.resources {
        x.open("member").text("LogicalResourceId", &r.logical_id).text("PhysicalResourceId", &r.physical_id);
        x.text("ResourceType", &r.kind).text("LastUpdatedTimestamp", timestamp(s.created));
        x.text("ResourceStatus", "CREATE_COMPLETE");
        drift(&mut x);
        x.close("member");
    }
    x.close("StackResourceSummaries");
    Ok(x.finish())
}

fn resource<'a>(s: &'a StackDescription, logical_id: &str) -> Result<&'a StackResource, CfnError> {
    s.resources
        .iter()
        .find(|r| r.logical_id == logical_id)
        .ok_or_else(|| CfnError::validation(format!("Resource {logical_id} does not exist for stack {}", s.name)))
}

/// `DescribeStackResource`: one resource by logical id.
fn describe_stack_resource(stack: Option<&StackDescription>, params: &Params) -> Result<String, CfnError> {
    let s = named(stack, required(params, "StackName")?)?;
    let r = resource(s, required(params, "LogicalResourceId")?)?;
    let mut x = Xml::default();
    x.open("StackResourceDetail").text("StackName", &s.name).text("StackId", &s.id);
    x.text("LogicalResourceId", &r.logical_id).text("PhysicalResourceId", &r.physical_id);
    x.text("ResourceType", &r.kind).text("LastUpdatedTimestamp", timestamp(s.created));
    x.text("ResourceStatus", "CREATE_COMPLETE");
    drift(&mut x);
    x.close("StackResourceDetail");
    Ok(x.finish())
}

/// `DescribeStackResources`: the stack's resources by `StackName`, or the
/// stack of `PhysicalResourceId`; `LogicalResourceId` keeps one.
fn describe_stack_resources(stack: Option<&StackDescription>, params: &Params) -> Result<String, CfnError> {
    let non_empty = |k: &str| params.get(k).filter(|v| !v.is_empty());
    let (s, physical) = match (non_empty("StackName"), non_empty("PhysicalResourceId")) {
        (Some(name), physical) => (named(stack, name)?, physical),
        (None, Some(physical)) => {
            let s = stack
                .filter(|s| s.resources.iter().any(|r| r.physical_id == physical))
                .ok_or_else(|| CfnError::validation(format!("Stack for {physical} does not exist")))?;
            (s, Some(physical))
        }
        (None, None) => return Err(CfnError::validation("Either StackName or PhysicalResourceId must be specified")),
    };
    let logical = non_empty("LogicalResourceId");
    if let Some(id) = logical {
        resource(s, id)?;
    }
    let mut x = Xml::default();
    x.open("StackResources");
    for r in s
        .resources
        .iter()
        .filter(|r| logical.is_none_or(|id| r.logical_id == id) && physical.is_none_or(|id| r.physical_id == id))
    {
        x.open("member").text("StackName", &s.name).text("StackId", &s.id);
        x.text("LogicalResourceId", &r.logical_id).text("PhysicalResourceId", &r.physical_id);
        x.text("ResourceType", &r.kind).text("Timestamp", timestamp(s.created));
        x.text("ResourceStatus", "CREATE_COMPLETE");
        drift(&mut x);
        x.close("member");
    }
    x.close("StackResources");
    Ok(x.finish())
}

impl Cloud {
    /// The stack as the local cloud's CloudFormation describes it.
    pub fn stack_description(&self) -> &StackDescription {
        &self.described
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Description: A small stack.
Parameters:
  Names: {Type: CommaDelimitedList, Default: "a, b"}
  Secret: {Type: String, Default: hush, NoEcho: true}
  Wait: {Type: Number, Default: 30}
Conditions:
  Never: !Equals [!Ref Wait, "0"]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Sub "${AWS::StackName}-table"}
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties: {PolicyDocument: {}}
  Role:
    Type: AWS::IAM::Role
    Properties: {Path: /service/}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: fn}}
    Properties:
      FunctionUrlConfig: {AuthType: AWS_IAM}
Outputs:
  TableName:
    Description: The table.
    Value: !Ref Table
    Export: {Name: !Sub "${AWS::StackName}-TableName"}
  PolicyArn: {Value: !Ref Policy}
  RoleArn: {Value: !GetAtt Role.Arn}
  Url: {Value: !GetAtt FnUrl.FunctionUrl}
  Hidden: {Condition: Never, Value: x}
  Id: {Value: !Ref AWS::StackId}
"#;

    use crate::cloud::template::Stack;

    fn described() -> StackDescription {
        let stack = Stack { name: "s".into(), region: "us-east-1".into(), account: "123456789012".into() };
        let mut t = Template::parse(TEMPLATE, Path::new("."), stack, &BTreeMap::new()).unwrap();
        t.endpoint = "http://127.0.0.1:7000".into();
        StackDescription::of(&t, DateTime::from_timestamp(1_767_225_600, 0).unwrap()).unwrap()
    }

    #[test]
    fn outputs_parameters_and_resources_resolve_as_cloudformation_reports_them() {
        let d = described();
        assert!(d.id.starts_with("arn:aws:cloudformation:us-east-1:123456789012:stack/s/"), "{}", d.id);
        assert_eq!(d.id, described().id, "stable");
        let outputs: BTreeMap<_, _> = d.outputs.iter().map(|o| (o.key.as_str(), o.value.as_str())).collect();
        assert_eq!(
            outputs,
            BTreeMap::from([
                ("TableName", "s-table"),
                ("PolicyArn", "arn:aws:iam::123456789012:policy/s-Policy"),
                ("RoleArn", "arn:aws:iam::123456789012:role/service/s-Role"),
                ("Url", "http://127.0.0.1:7000/lambda-url/s-Fn/"),
                ("Id", d.id.as_str()),
            ])
        );
        let table = d.outputs.iter().find(|o| o.key == "TableName").unwrap();
        assert_eq!(table.description.as_deref(), Some("The table."));
        assert_eq!(table.export_name.as_deref(), Some("s-TableName"));
        let p: BTreeMap<_, _> = d.parameters.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(p, BTreeMap::from([("Names", "a,b"), ("Secret", "****"), ("Wait", "30")]));
        assert_eq!(d.capabilities, ["CAPABILITY_IAM"]);
        let r: Vec<_> =
            d.resources.iter().map(|r| (r.logical_id.as_str(), r.kind.as_str(), r.physical_id.as_str())).collect();
        let function = "arn:aws:lambda:us-east-1:123456789012:function:s-Fn";
        assert_eq!(
            r,
            [
                ("Fn", "AWS::Lambda::Function", "s-Fn"),
                ("FnUrl", "AWS::Lambda::Url", function),
                ("Policy", "AWS::IAM::ManagedPolicy", "arn:aws:iam::123456789012:policy/s-Policy"),
                ("Role", "AWS::IAM::Role", "s-Role"),
                ("Table", "AWS::DynamoDB::Table", "s-table"),
            ]
        );
    }

    #[test]
    fn describe_stacks_by_name_arn_or_none_and_unknown_names() {
        let d = described();
        let by = |name: &str| describe_stacks(Some(&d), &Params::parse(format!("StackName={name}").as_bytes()));
        let xml = by("s").unwrap();
        assert!(xml.starts_with("<Stacks><member><StackId>arn:aws:cloudformation:"), "{xml}");
        assert!(xml.contains("<CreationTime>2026-01-01T00:00:00.000Z</CreationTime>"), "{xml}");
        assert!(xml.contains("<member><OutputKey>TableName</OutputKey><OutputValue>s-table</OutputValue><Description>The table.</Description><ExportName>s-TableName</ExportName></member>"), "{xml}");
        assert_eq!(by(&d.id).unwrap(), xml);
        assert_eq!(describe_stacks(Some(&d), &Params::parse(b"")).unwrap(), xml);
        assert_eq!(by("other"), Err(CfnError::no_stack("other")));
        assert_eq!(describe_stacks(None, &Params::parse(b"StackName=s")), Err(CfnError::no_stack("s")));
        assert_eq!(describe_stacks(None, &Params::parse(b"")).unwrap(), "<Stacks></Stacks>");
    }

    #[test]
    fn resources_by_logical_and_physical_id() {
        let d = described();
        let p = |q: &str| Params::parse(q.as_bytes());
        let one = describe_stack_resource(Some(&d), &p("StackName=s&LogicalResourceId=Table")).unwrap();
        assert!(one.contains("<PhysicalResourceId>s-table</PhysicalResourceId><ResourceType>AWS::DynamoDB::Table"));
        let err = describe_stack_resource(Some(&d), &p("StackName=s&LogicalResourceId=Nope")).unwrap_err();
        assert_eq!(err.message, "Resource Nope does not exist for stack s");
        let err = describe_stack_resource(Some(&d), &p("StackName=s")).unwrap_err();
        assert!(err.message.contains("'logicalResourceId'"), "{err}");
        let by_physical = describe_stack_resources(Some(&d), &p("PhysicalResourceId=s-table")).unwrap();
        assert_eq!(by_physical.matches("<member>").count(), 1);
        assert_eq!(describe_stack_resources(Some(&d), &p("StackName=s")).unwrap().matches("<member>").count(), 5);
        assert!(describe_stack_resources(Some(&d), &p("PhysicalResourceId=nope")).is_err());
        assert_eq!(
            list_stacks(Some(&d), &p("StackStatusFilter.member.1=DELETE_COMPLETE")),
            "<StackSummaries></StackSummaries>"
        );
    }
}

//! Deployment domain: values that validate on construction, the deploy-target
//! rules, the deployment record and its status machine, and the rules that
//! decide how a rollout went. No AWS SDK and no Lambda runtime in here.

mod deployment;
mod image;
mod notification;
mod revision;
mod rollout;
mod status;
mod tag_rule;
mod target;

pub use deployment::{iso, Deployment, DeploymentId, NewDeployment, Phase, RecordPatch, TimelineEntry, Transition, Watch};
pub use image::{ImageDigest, ImageRef};
pub use notification::{DeploymentStateChange, HumanMessage, EVENT_DETAIL_TYPE, EVENT_SOURCE};
pub use revision::{plan_image_update, ContainerImage, ImagePlan, TaskDefinitionView, DEPLOYMENT_TAG_KEY, IMAGE_TAG_KEY};
pub use rollout::{
    evaluate, short_tg, EcsDeploymentView, Outcome, ServiceSnapshot, TargetGroupHealth, TargetView, TaskView, Verdict,
};
pub use status::DeploymentStatus;
pub use tag_rule::TagRule;
pub use target::{DeployTarget, ServiceRef};

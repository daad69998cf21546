//! What a connector operation can fail with (its own module so the delivery modules
//! can name it without using their parent).

use kido_proto::connectors::ConnectorType;
use thiserror::Error;

use crate::storage::{self, StorageError};

#[derive(Debug, Error)]
pub enum ConnectorError {
    #[error("connector `{0}` not found")]
    NotFound(String),
    #[error("there is no connector factory `{0}`")]
    FactoryNotFound(String),
    #[error("there is no email or SMS connector factory `{0}`")]
    TestFactoryNotFound(String),
    #[error("no {} connector is configured", .0.as_str())]
    NoConnector(ConnectorType),
    #[error("the connector type does not match the recipient")]
    UnexpectedType,
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("metadata cannot be overwritten for a non-standard connector")]
    MetadataNotAllowed,
    #[error("only social connectors can sync profiles")]
    SyncProfileNotAllowed,
    #[error("this connector does not support token storage")]
    TokenStorageNotSupported,
    #[error("no template for usage type `{0}`")]
    TemplateNotFound(String),
    #[error("email template `{0}` not found")]
    EmailTemplateNotFound(String),
    #[error("delivery failed: {0}")]
    Delivery(String),
    #[error("deleting email templates in bulk needs `languageTag` or `templateType`")]
    BulkDeletionWithoutFilter,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StorageError),
}

storage::from_store_error!(ConnectorError);

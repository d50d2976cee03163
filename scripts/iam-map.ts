// The one map from an AWS SDK command to the IAM actions it needs and the resource they apply to. The IAM test
// derives each function's permissions from the commands its bundle can send (scripts/sdk-calls.ts) through this map
// and compares them with the role template.yaml gives the function. A command the map does not know fails the test:
// add it here, with its resource, rather than widen a policy by hand.

/** What a permission applies to; turned into a template expression in scripts/iam-policy.ts. */
export type ResourceKind =
  /** The table the function's TABLE_NAME names. */
  | "table"
  /** Each index of that table the function's code names in `IndexName` (Query, Scan). */
  | "table-indexes"
  /** Every IVS Real-Time stage of the account and region. */
  | "ivs-stages"
  /** No resource ARN: the action does not support resource-level permissions. */
  | "*"
  /**
   * The queues the function's `*_QUEUE_URL` variables name (DISCONNECT_QUEUE_URL, WEBHOOK_QUEUE_URL): a Ref to a queue,
   * or an Fn::If with one in a branch; an empty value names none.
   */
  | "queues"
  /** The queues of the function's SQS event sources (what it is handed messages from). */
  | "event-source-queues"
  /** The secrets the function's `*_SECRET_ID` variables name (SIGNING_KEY_SECRET_ID, WEBHOOK_SECRET_ID). */
  | "secrets"
  /** Every IVS public key of the account and region. */
  | "ivs-public-keys"
  /** The Cognito user pool whose JWTs the API accepts (created by the stack, or given as UserPoolId). */
  | "user-pool";

export type CommandIam =
  | { actions: string[]; on: ResourceKind[] }
  /** TransactWriteItems is not an IAM action: each item needs the action of its kind (TRANSACT_ITEM_ACTIONS). */
  | { transactItems: true; on: ResourceKind[] }
  /** In the bundle but never sent by this code; `why` says why no permission is needed. */
  | { never: string };

const DDB = "@aws-sdk/client-dynamodb";
const IVS = "@aws-sdk/client-ivs-realtime";
const SQS = "@aws-sdk/client-sqs";
const SM = "@aws-sdk/client-secrets-manager";
const COGNITO = "@aws-sdk/client-cognito-identity-provider";

export const COMMAND_IAM: Record<string, CommandIam> = {
  [`${DDB}:GetItem`]: { actions: ["dynamodb:GetItem"], on: ["table"] },
  [`${DDB}:PutItem`]: { actions: ["dynamodb:PutItem"], on: ["table"] },
  [`${DDB}:UpdateItem`]: { actions: ["dynamodb:UpdateItem"], on: ["table"] },
  [`${DDB}:DeleteItem`]: { actions: ["dynamodb:DeleteItem"], on: ["table"] },
  [`${DDB}:BatchGetItem`]: { actions: ["dynamodb:BatchGetItem"], on: ["table"] },
  [`${DDB}:BatchWriteItem`]: { actions: ["dynamodb:BatchWriteItem"], on: ["table"] },
  [`${DDB}:Query`]: { actions: ["dynamodb:Query"], on: ["table", "table-indexes"] },
  [`${DDB}:Scan`]: { actions: ["dynamodb:Scan"], on: ["table", "table-indexes"] },
  [`${DDB}:TransactGetItems`]: { actions: ["dynamodb:GetItem"], on: ["table"] },
  [`${DDB}:TransactWriteItems`]: { transactItems: true, on: ["table"] },
  [`${DDB}:DescribeEndpoints`]: {
    never:
      "endpoint discovery: the DynamoDB client holds this command but sends it only when endpoint discovery is " +
      "enabled (AWS_ENABLE_ENDPOINT_DISCOVERY / endpointDiscoveryEnabled), which nothing here sets",
  },

  // IVS Real-Time. Tagging on create is authorised as ivs:TagResource as well, and CreateStage always passes tags.
  [`${IVS}:CreateStage`]: { actions: ["ivs:CreateStage", "ivs:TagResource"], on: ["ivs-stages"] },
  [`${IVS}:GetStage`]: { actions: ["ivs:GetStage"], on: ["ivs-stages"] },
  [`${IVS}:UpdateStage`]: { actions: ["ivs:UpdateStage"], on: ["ivs-stages"] },
  [`${IVS}:DeleteStage`]: { actions: ["ivs:DeleteStage"], on: ["ivs-stages"] },
  [`${IVS}:CreateParticipantToken`]: { actions: ["ivs:CreateParticipantToken"], on: ["ivs-stages"] },
  [`${IVS}:DisconnectParticipant`]: { actions: ["ivs:DisconnectParticipant"], on: ["ivs-stages"] },
  [`${IVS}:TagResource`]: { actions: ["ivs:TagResource"], on: ["ivs-stages"] },
  [`${IVS}:UntagResource`]: { actions: ["ivs:UntagResource"], on: ["ivs-stages"] },
  [`${IVS}:ListTagsForResource`]: { actions: ["ivs:ListTagsForResource"], on: ["ivs-stages"] },
  // Who is on a stage: each read names the stage (and session) it is about.
  [`${IVS}:GetParticipant`]: { actions: ["ivs:GetParticipant"], on: ["ivs-stages"] },
  [`${IVS}:ListParticipants`]: { actions: ["ivs:ListParticipants"], on: ["ivs-stages"] },
  [`${IVS}:ListParticipantEvents`]: { actions: ["ivs:ListParticipantEvents"], on: ["ivs-stages"] },
  [`${IVS}:GetStageSession`]: { actions: ["ivs:GetStageSession"], on: ["ivs-stages"] },
  [`${IVS}:ListStageSessions`]: { actions: ["ivs:ListStageSessions"], on: ["ivs-stages"] },
  // The one IVS call with no resource ARN to scope it to.
  [`${IVS}:ListStages`]: { actions: ["ivs:ListStages"], on: ["*"] },

  // Self-signed tokens: importing and deleting the public keys whose private halves sign them.
  [`${IVS}:ImportPublicKey`]: { actions: ["ivs:ImportPublicKey"], on: ["ivs-public-keys"] },
  [`${IVS}:DeletePublicKey`]: { actions: ["ivs:DeletePublicKey"], on: ["ivs-public-keys"] },
  [`${SM}:GetSecretValue`]: { actions: ["secretsmanager:GetSecretValue"], on: ["secrets"] },
  [`${SM}:PutSecretValue`]: { actions: ["secretsmanager:PutSecretValue"], on: ["secrets"] },

  // Moderation asks the user pool whether the user it is about to ban is an admin.
  [`${COGNITO}:ListUsers`]: { actions: ["cognito-idp:ListUsers"], on: ["user-pool"] },
  [`${COGNITO}:AdminListGroupsForUser`]: { actions: ["cognito-idp:AdminListGroupsForUser"], on: ["user-pool"] },

  // SendMessageBatch is authorised as sqs:SendMessage.
  [`${SQS}:SendMessage`]: { actions: ["sqs:SendMessage"], on: ["queues"] },
  [`${SQS}:SendMessageBatch`]: { actions: ["sqs:SendMessage"], on: ["queues"] },
  // A consumer deciding when a message it failed comes back (the webhook retries' waits).
  [`${SQS}:ChangeMessageVisibility`]: { actions: ["sqs:ChangeMessageVisibility"], on: ["event-source-queues"] },
};

/** The IAM action each kind of TransactWriteItems item needs. */
export const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  ConditionCheck: "dynamodb:ConditionCheckItem",
  Put: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
};

/**
 * What Lambda itself does with the function's role, whatever the code: poll an SQS event source (the actions of
 * AWSLambdaSQSQueueExecutionRole, but on the one queue), send an asynchronous invocation that failed to the
 * function's dead-letter queue, and write to the function's own log group.
 */
export const SQS_EVENT_SOURCE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"];
export const SQS_DEAD_LETTER_ACTIONS = ["sqs:SendMessage"];
export const LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"];

/**
 * SDK internals that are never reached in Lambda: the credential providers' own clients (STS, SSO, sign-in) are
 * consulted only when no credentials are in the environment, and Lambda always puts the role's there.
 */
export const INTERNAL_PACKAGES: Record<string, string> = {
  "@aws-sdk/nested-clients":
    "credential providers' clients (STS, SSO, sign-in), never reached: Lambda puts the role's credentials in the environment",
};

// Kicks, bans and the audit trail. Clients, verifier and config are built once per container.
import { createCognitoClient } from "#shared/aws/cognito.ts";
import { initContainer } from "#shared/container.ts";
import { createHttpHandler } from "#shared/http/handler.ts";
import { routes } from "./routes.ts";

const { deps, authenticator } = await initContainer();

export const handler = createHttpHandler(routes({ ...deps, cognito: createCognitoClient() }), authenticator);

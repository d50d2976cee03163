// One Powertools logger per container. Nothing logged may contain a JWT or a participant token.
import { Logger } from "@aws-lambda-powertools/logger";

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? "stagepass" });

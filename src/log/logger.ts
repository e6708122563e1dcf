import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger for every handler; the level follows POWERTOOLS_LOG_LEVEL / Lambda's log controls. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'knn-pipeline' });

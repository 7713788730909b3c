import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** Path of the server-side OIDC callback (runtime/control-plane/api/oidc.ts), under the UI/API URL. */
export const OIDC_CALLBACK_PATH = '/v1/auth/oidc/callback';

/**
 * UI login: a Cognito user pool (admin-created users, MFA required, hosted-UI domain for the
 * authorization endpoint), or an external OIDC issuer. The `auth` function runs the code flow (PKCE)
 * and redirects back to `redirectUri`.
 */
export class ControlPlaneAuth extends Construct {
  readonly issuerUrl: string;
  readonly clientId: string;
  /** `TOLLGATE_OIDC_REDIRECT_URI`: register it at the external issuer (Cognito gets it automatically). */
  readonly redirectUri: string;
  /** `TOLLGATE_OIDC_POST_LOGIN_URL`: where the browser lands after sign-in (the UI). */
  readonly postLoginUrl: string;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;
  readonly userPoolDomain?: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, o: { oidcIssuerUrl?: string; oidcClientId?: string; cognitoDomainPrefix?: string; uiUrl: string; removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.redirectUri = `${o.uiUrl}${OIDC_CALLBACK_PATH}`;
    this.postLoginUrl = `${o.uiUrl}/`;
    if (o.oidcIssuerUrl) {
      this.issuerUrl = o.oidcIssuerUrl;
      this.clientId = o.oidcClientId!;
      return;
    }
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: o.removalPolicy,
    });
    acknowledge(this.userPool,
      'Cognito threat protection (AdvancedSecurityMode ENFORCED) needs the Plus feature plan, billed per MAU; MFA is required and self sign-up is off. Enable it per deployment if the plan is bought.',
      'AwsSolutions-COG3', 'AwsSolutions-COG8');
    this.userPoolClient = this.userPool.addClient('UiClient', {
      generateSecret: false,
      preventUserExistenceErrors: true,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.redirectUri],
        logoutUrls: [`${o.uiUrl}/`],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
    // The authorization endpoint of the discovery document exists only once the pool has a domain.
    this.userPoolDomain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: o.cognitoDomainPrefix ?? defaultDomainPrefix(this) },
    });
    this.issuerUrl = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.clientId = this.userPoolClient.userPoolClientId;
  }
}

/**
 * A stable Cognito domain prefix from the construct path (lowercase letters, digits, hyphens; at most
 * 63 characters; without the reserved words aws, amazon, cognito).
 */
function defaultDomainPrefix(scope: Construct): string {
  const name = Names.uniqueResourceName(scope, { maxLength: 50, separator: '-' }).toLowerCase()
    .replace(/aws|amazon|cognito/g, 'x').replace(/[^a-z0-9-]/g, '-');
  return `tollgate-${name}`.replace(/-+/g, '-').slice(0, 63).replace(/-$/, '');
}

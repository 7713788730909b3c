import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

/** UI login: a Cognito user pool (admin-created users, MFA required), or an external OIDC issuer. */
export class ControlPlaneAuth extends Construct {
  readonly issuerUrl: string;
  readonly clientId: string;
  readonly userPool?: cognito.UserPool;
  readonly userPoolClient?: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, o: { oidcIssuerUrl?: string; oidcClientId?: string; uiUrl: string; removalPolicy: RemovalPolicy }) {
    super(scope, id);
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
        callbackUrls: [`${o.uiUrl}/`],
        logoutUrls: [`${o.uiUrl}/`],
      },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
    });
    this.issuerUrl = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.clientId = this.userPoolClient.userPoolClientId;
  }
}

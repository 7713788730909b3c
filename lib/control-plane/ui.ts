import { Duration, Fn, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { acknowledge, iam5Resource } from '../nag.js';

export interface ControlPlaneUiProps {
  /** `https://<api id>.execute-api.<region>.amazonaws.com` — served under `/v1/*` of the distribution. */
  readonly apiEndpoint: string;
  readonly accessLogs: s3.IBucket;
  readonly assetsDir: string;
  readonly domainName?: string;
  readonly certificate?: acm.ICertificate;
  readonly webAclArn?: string;
  readonly createWebAcl?: boolean;
  /** Origins the UI may call besides itself (the OIDC issuer). */
  readonly connectSources: string[];
  readonly removalPolicy: RemovalPolicy;
}

/** SPA routing on the default behaviour only, so API 404s stay 404s. */
const SPA_REWRITE = `function handler(event) {
  var req = event.request;
  if (req.uri.indexOf('.') === -1) req.uri = '/index.html';
  return req;
}`;

/**
 * The control-panel UI: private S3 bucket behind CloudFront with Origin Access Control, security headers,
 * access logs, TLS 1.2+, optional WAF. The API is also served at `/v1/*` (same origin: no CORS).
 */
export class ControlPlaneUi extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly url: string;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, p: ControlPlaneUiProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Assets', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      serverAccessLogsBucket: p.accessLogs,
      serverAccessLogsPrefix: 'ui-bucket/',
      removalPolicy: p.removalPolicy,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Tollgate control panel security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: Fn.join(' ', [
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;",
            "connect-src 'self'", ...p.connectSources, ';',
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
          ]),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });

    const webAclId = p.webAclArn ?? (p.createWebAcl ? (this.webAcl = createWebAcl(this)).attrArn : undefined);
    const apiOrigin = new origins.HttpOrigin(Fn.select(2, Fn.split('/', p.apiEndpoint)), {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Tollgate control panel and API',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [{
          eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
          function: new cloudfront.Function(this, 'SpaRewrite', {
            code: cloudfront.FunctionCode.fromInline(SPA_REWRITE),
            runtime: cloudfront.FunctionRuntime.JS_2_0,
          }),
        }],
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
      domainNames: p.domainName ? [p.domainName] : undefined,
      certificate: p.certificate,
      minimumProtocolVersion: p.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: p.accessLogs,
      logFilePrefix: 'cloudfront/',
      webAclId,
    });
    this.url = `https://${p.domainName ?? this.distribution.distributionDomainName}`;

    acknowledge(this.distribution, 'The control panel serves customers worldwide; there is no country to block by default.', 'AwsSolutions-CFR1');
    if (!webAclId) {
      acknowledge(this.distribution, 'WAF is opt-in (webAclArn / createWebAcl) because CloudFront web ACLs must live in us-east-1 and are billed per request; the API authenticates every call.', 'AwsSolutions-CFR2');
    }
    if (!p.certificate) {
      acknowledge(this.distribution, 'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose minimum protocol AWS fixes at TLSv1; pass domainName + certificate for TLSv1.2_2021.', 'AwsSolutions-CFR4');
    }

    if (existsSync(p.assetsDir)) {
      const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
        sources: [s3deploy.Source.asset(p.assetsDir)],
        destinationBucket: this.bucket,
        distribution: this.distribution,
        distributionPaths: ['/index.html'],
        prune: true,
      });
      // The upload handler is an aws-cdk-lib singleton at stack level.
      const stack = Stack.of(this);
      for (const child of stack.node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'))) {
        acknowledge(child, 'aws-cdk-lib BucketDeployment handler (framework code): its Python runtime, AWSLambdaBasicExecutionRole and the s3:GetObject*/List*/DeleteObject* grants on the asset and UI buckets are set by aws-cdk-lib.',
          'AwsSolutions-L1',
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]');
      }
      const ui = iam5Resource(this, this.bucket.arnForObjects('*'));
      // The CDK bootstrap asset bucket (default synthesizer naming).
      const qualifier = stack.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? 'hnb659fds';
      const assets = iam5Resource(this, `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-${stack.account}-${stack.region}/*`);
      acknowledge(deployment.handlerRole, 'CloudFront CreateInvalidation/GetInvalidation after the upload support no resource-level scoping in this aws-cdk-lib handler policy.',
        'AwsSolutions-IAM5[Resource::*]');
      acknowledge(deployment.handlerRole, 'BucketDeployment copies the UI build from the CDK asset bucket into the UI bucket and prunes old files: object-level wildcards on those two buckets only.',
        ui, assets, 'AwsSolutions-IAM5[Action::s3:GetObject*]', 'AwsSolutions-IAM5[Action::s3:GetBucket*]', 'AwsSolutions-IAM5[Action::s3:List*]',
        'AwsSolutions-IAM5[Action::s3:DeleteObject*]', 'AwsSolutions-IAM5[Action::s3:Abort*]');
    }
  }
}

/** CLOUDFRONT-scope web ACL: AWS common rules (body-size rule counted, prompts are large), bad inputs, IP reputation, rate limit. */
function createWebAcl(scope: Construct): wafv2.CfnWebACL {
  const managed = (name: string, priority: number, overrides?: string[]): wafv2.CfnWebACL.RuleProperty => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides: overrides?.map((o) => ({ name: o, actionToUse: { count: {} } })),
      },
    },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  });
  return new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'CLOUDFRONT',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'TollgateControlPlane', sampledRequestsEnabled: true },
    rules: [
      managed('AWSManagedRulesCommonRuleSet', 0, ['SizeRestrictions_BODY']),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
      managed('AWSManagedRulesAmazonIpReputationList', 2),
      {
        name: 'RateLimitPerIp',
        priority: 3,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: 'IP' } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RateLimitPerIp', sampledRequestsEnabled: true },
      },
    ],
  });
}

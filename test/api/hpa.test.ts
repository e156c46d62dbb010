// autoscaling/v2 HorizontalPodAutoscaler: kube's defaults, validation messages with field paths
// (table-driven), the TARGETS column, and the v1 ↔ v2 conversion.
import t from 'tap';
import { admit } from '../../api/admit.js';
import { formatFieldError } from '../../api/field.js';
import { horizontalPodAutoscaler, targetsText } from '../../api/kinds/autoscaling/hpa.js';
import { toV1, toV2 } from '../../api/kinds/autoscaling/hpa-v1.js';
import type { KubeObject } from '../../api/meta.js';

const hpa = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 4, ...spec }, ...(status ? { status } : {}),
});
const cpu = (u: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: u } } });

t.test('defaults', async (t) => {
  const o = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
  horizontalPodAutoscaler.applyDefaults(o);
  t.equal(o.spec.minReplicas, 1);
  t.same(o.spec.metrics, [cpu(80)], 'CPU 80% when no metric is given');
  t.same(o.spec.behavior.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
  t.same(o.spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }, 'set values kept, window left to the controller otherwise');
  const plain = hpa({ metrics: [cpu(50)] });
  horizontalPodAutoscaler.applyDefaults(plain);
  t.equal(plain.spec.behavior, undefined, 'no behavior stays no behavior (the controller uses its legacy rules)');
});

t.test('validation', async (t) => {
  const rows: [string, Record<string, unknown>, string[]][] = [
    ['valid', { minReplicas: 1, metrics: [cpu(50)] }, []],
    ['max < min', { minReplicas: 3, maxReplicas: 2 }, ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']],
    ['min 0', { minReplicas: 0 }, ['spec.minReplicas: Invalid value: 0: must be greater than or equal to 1']],
    ['max 0', { maxReplicas: 0 }, ['spec.maxReplicas: Invalid value: 0: must be greater than 0', 'spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`']],
    ['unknown type', { metrics: [{ type: 'Foo' }] }, ['spec.metrics[0].type: Unsupported value: "Foo": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"']],
    ['bad quantity', { metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1x' } } }] }, ['spec.metrics[0].resource.target.averageValue: Invalid value: "1x": must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'']],
    ['source missing', { metrics: [{ type: 'Resource' }] }, ['spec.metrics[0].resource: Required value: must populate information for the given metric source']],
    ['wrong source', { metrics: [{ type: 'Resource', resource: cpu(5).resource, pods: { metric: { name: 'x' }, target: { type: 'Value', value: '1' } } }] }, ['spec.metrics[0].pods: Forbidden: must populate the given metric source only']],
    ['utilization 0', { metrics: [cpu(0)] }, ['spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0']],
    ['no target value', { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] }, ['spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization']],
    ['Value on a resource', { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Value', value: '1' } } }] }, ['spec.metrics[0].resource.target.type: Invalid value: "Value": must be either Utilization or AverageValue for a resource metric', 'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization']],
    ['bad selectPolicy', { behavior: { scaleUp: { selectPolicy: 'Sometimes' } } }, ['spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sometimes": supported values: "Max", "Min", "Disabled"']],
    ['bad policy values', { behavior: { scaleUp: { stabilizationWindowSeconds: 4000, policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] }, scaleDown: { policies: [] } } }, [
      'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
      'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
    ]],
    ['no target ref name', { scaleTargetRef: { kind: 'Deployment' } }, ['spec.scaleTargetRef.name: Required value']],
  ];
  for (const [name, spec, want] of rows) {
    const o = hpa(spec);
    horizontalPodAutoscaler.applyDefaults(o);
    t.same(horizontalPodAutoscaler.validate(o).map(formatFieldError), want, name);
    t.equal(admit(hpa(spec)).ok, want.length === 0, `${name}: admission agrees`);
  }
});

t.test('TARGETS column', async (t) => {
  t.equal(targetsText(hpa({ metrics: [cpu(50)] })), 'cpu: <unknown>/50%');
  t.equal(targetsText(hpa({ metrics: [cpu(50)] }, { currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12, averageValue: '12m' } } }] })), 'cpu: 12%/50%');
  const three = hpa({ metrics: [cpu(50), { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }, cpu(60)] });
  t.equal(targetsText(three), 'cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more...');
  t.equal(targetsText(hpa({ metrics: [] })), '<none>');
  const cells = horizontalPodAutoscaler.cells(hpa({ metrics: [cpu(50)] }, { currentReplicas: 2 }), new Date());
  t.same(cells.slice(0, 6), ['h', 'Deployment/web', 'cpu: <unknown>/50%', '<unset>', 4, 2]);
});

t.test('v1 <-> v2', async (t) => {
  const v1: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 }, status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 90 } };
  const v2 = toV2(v1);
  t.same(v2.spec.metrics, [cpu(70)]);
  t.same(v2.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } }]);
  t.same(toV1(v2), v1, 'round trip');
  const noTarget = toV2({ ...v1, spec: { scaleTargetRef: v1.spec.scaleTargetRef, maxReplicas: 3 } });
  t.equal(noTarget.spec.metrics, undefined, 'no target: v2 defaulting picks 80%');
  const base = hpa({ metrics: [cpu(50), { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 5 } } });
  const merged = toV2({ ...toV1(base), spec: { ...toV1(base).spec, targetCPUUtilizationPercentage: 40 } }, base);
  t.same(merged.spec.metrics.map((m: any) => m.resource.name), ['cpu', 'memory']);
  t.equal(merged.spec.behavior.scaleDown.stabilizationWindowSeconds, 5);
});

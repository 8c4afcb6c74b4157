// The page behind docs/element-templates.png: bpmn-js with the properties panel and
// bpmn-js-element-templates (Camunda 7 flavour), as Camunda Modeler shows a templated element.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import { ElementTemplatesPropertiesProviderModule } from 'bpmn-js-element-templates';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';

// Apply templates the way a designer does in the Modeler, then set values as he would type them.
// plan: [{ element, template, values: { propertyName: value } }]
window.preview = async function (xml, templates, plan, selected) {
  const modeler = new BpmnModeler({
    container: '#canvas',
    propertiesPanel: { parent: '#properties' },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
      ElementTemplatesPropertiesProviderModule
    ],
    moddleExtensions: { camunda: camundaModdle },
    elementTemplates: templates
  });
  modeler.on('elementTemplates.errors', (event) => {
    window.templateErrors = event.errors.map((e) => String(e));
  });
  await modeler.importXML(xml);
  if (window.templateErrors) {
    throw new Error('element templates rejected: ' + window.templateErrors.join('; '));
  }
  const registry = modeler.get('elementRegistry');
  const elementTemplates = modeler.get('elementTemplates');
  const modeling = modeler.get('modeling');
  for (const step of plan) {
    let element = registry.get(step.element);
    // Versioned templates are looked up by id and version; take the latest, as the Modeler offers it.
    const template = elementTemplates.getLatest(step.template)[0];
    if (!template) {
      throw new Error('no element template ' + step.template);
    }
    element = elementTemplates.applyTemplate(element, template) || registry.get(step.element);
    for (const [name, value] of Object.entries(step.values || {})) {
      setValue(modeler, element, name, value);
    }
  }
  const canvas = modeler.get('canvas');
  canvas.zoom(0.8);
  const target = registry.get(selected);
  const box = canvas.viewbox();
  canvas.viewbox({ x: target.x - box.width * 0.55, y: target.y - box.height * 0.45, width: box.width, height: box.height });
  const { xml: saved } = await modeler.saveXML({ format: true });
  return saved;
};

// "property:NAME" is a camunda:property, "input:NAME" a camunda:inputParameter, anything else an attribute.
function setValue(modeler, element, name, value) {
  const modeling = modeler.get('modeling');
  const [kind, key] = name.includes(':') ? name.split(/:(.*)/s) : ['', name];
  const values = (element.businessObject.extensionElements || { values: [] }).values;
  if (kind === 'property') {
    // An optional property left empty by the template has no camunda:property yet: add it, as the panel does.
    const bpmnFactory = modeler.get('bpmnFactory');
    let ext = element.businessObject.extensionElements;
    if (!ext) {
      ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
      modeling.updateProperties(element, { extensionElements: ext });
    }
    let props = ext.values.find((v) => v.$type === 'camunda:Properties');
    if (!props) {
      props = bpmnFactory.create('camunda:Properties', { values: [] });
      modeling.updateModdleProperties(element, ext, { values: [...ext.values, props] });
    }
    const prop = props.values.find((p) => p.name === key);
    if (prop) {
      modeling.updateModdleProperties(element, prop, { value });
    } else {
      const created = bpmnFactory.create('camunda:Property', { name: key, value });
      modeling.updateModdleProperties(element, props, { values: [...props.values, created] });
    }
  } else if (kind === 'input') {
    const io = values.find((v) => v.$type === 'camunda:InputOutput');
    const param = io.inputParameters.find((p) => p.name === key);
    modeling.updateModdleProperties(element, param, { value });
  } else {
    modeling.updateProperties(element, { [name]: value });
  }
}

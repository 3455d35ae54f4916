// Fill an XForm with JavaRosa (the form engine inside ODK Collect) the way Collect does,
// and print the outcome as one JSON object on stdout.
//
//   java -cp ODK_Validate.jar:BUILD_DIR FillForm FORM.xml MEDIA_DIR < script.json
//
// script.json (written by tests/formengine/__init__.py):
//   {"answers":    [["/data/name", "Ann"], ["/data/members[2]/name", "Bob"], ...],
//    "language":   "English (en)" | null,
//    "earlier":    [["/data/mode", "known"], ...],  // optional answers of a first pass, then changed
//    "repeats":    {"/data/members": 2, ...},      // optional explicit repeat counts
//    "properties": {"deviceid": "collect:abc", ...}} // optional property-manager values
//
// Output: {"ok": true|false, "xml": "<data ...>" | null, "violations": [...], "screens": N,
//          "unused": [...], "trace": [...], "language": ..., "languages": [...]}
//   or, when JavaRosa itself fails (parse error, XPath error...): {"ok": false, "error": "..."}.
//
// JavaRosa (org.getodk:javarosa) is taken from pyxform's bundled ODK_Validate.jar, which also
// carries jackson (JSON) and commons-csv.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.javarosa.core.model.Constants;
import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.FormIndex;
import org.javarosa.core.model.GroupDef;
import org.javarosa.core.model.IFormElement;
import org.javarosa.core.model.SelectChoice;
import org.javarosa.core.model.ValidateOutcome;
import org.javarosa.core.model.condition.EvaluationContext;
import org.javarosa.core.model.condition.IFunctionHandler;
import org.javarosa.core.model.data.AnswerDataFactory;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.data.SelectMultiData;
import org.javarosa.core.model.data.SelectOneData;
import org.javarosa.core.model.data.StringData;
import org.javarosa.core.model.data.UncastData;
import org.javarosa.core.model.data.helper.Selection;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.model.instance.TreeReference;
import org.javarosa.core.model.instance.SecondaryInstanceCSVParserBuilder;
import org.javarosa.core.reference.Reference;
import org.javarosa.core.reference.ReferenceFactory;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.core.reference.RootTranslator;
import org.javarosa.core.services.IPropertyManager;
import org.javarosa.core.services.PropertyManager;
import org.javarosa.core.services.PrototypeManager;
import org.javarosa.core.services.properties.IPropertyRules;
import org.javarosa.form.api.FormEntryController;
import org.javarosa.form.api.FormEntryModel;
import org.javarosa.form.api.FormEntryPrompt;
import org.javarosa.model.xform.XFormSerializingVisitor;
import org.javarosa.model.xform.XFormsModule;
import org.javarosa.xform.parse.XFormParser;
import org.javarosa.xform.util.XFormUtils;
import org.javarosa.xpath.expr.XPathFuncExpr;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

public class FillForm {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Thrown to stop the walk at the first rejected answer, as Collect keeps the user on that screen. */
    static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() { super(null, null, false, false); }
    }

    final FormDef form;
    final FormEntryModel model;
    final FormEntryController fec;
    final Map<String, String> answers = new LinkedHashMap<>(); // canonical path -> value (null = clear)
    final Set<String> used = new HashSet<>();
    // Answers of a first pass through the form: the collector answers these, swipes back to the start and goes
    // through again with `answers` (what the model remembers of the first pass stays, as on the phone).
    final Map<String, String> earlier = new LinkedHashMap<>();
    final Set<String> usedEarlier = new HashSet<>();
    Map<String, String> active = answers;                       // the pass being walked
    Set<String> activeUsed = used;
    final Map<String, Integer> repeats = new HashMap<>();       // canonical repeat path -> count
    final ArrayNode violations = JSON.createArrayNode();
    final ArrayNode trace = JSON.createArrayNode();
    int screens = 0;

    public static void main(String[] args) throws Exception {
        // JavaRosa and its dependencies may print to stdout; keep stdout for our JSON only.
        PrintStream stdout = System.out;
        System.setOut(System.err);
        ObjectNode out;
        int rc = 0;
        try {
            JsonNode script = JSON.readTree(System.in);
            out = run(new File(args[0]), new File(args[1]), script);
        } catch (Throwable t) {
            StringWriter sw = new StringWriter();
            t.printStackTrace(new PrintWriter(sw));
            out = JSON.createObjectNode();
            out.put("ok", false);
            out.put("error", String.valueOf(t));
            out.put("stacktrace", sw.toString());
            rc = 1;
        }
        stdout.write(JSON.writeValueAsBytes(out));
        stdout.flush();
        System.exit(rc);
    }

    static ObjectNode run(File formFile, File mediaDir, JsonNode script) throws Exception {
        // --- Collect: JavaRosaInitializer (once per app start) -------------------------------
        // (Collect also registers CoreModelModule, which needs a storage factory; filling doesn't.)
        new XFormsModule().registerModule();
        Map<String, String> props = new HashMap<>();
        props.put("deviceid", "collect:formengine-test");
        script.path("properties").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
        // Collect's PropertyManager answers jr:preload="property" (deviceid, username, email...).
        PropertyManager.setPropertyManager(new MapPropertyManager(props));
        // Collect registers its own odk:setgeopoint handler (needs GPS); we reuse ODK Validate's stub,
        // which leaves the value empty.
        try {
            PrototypeManager.registerPrototype("org.opendatakit.validate.StubSetGeopointAction");
            XFormParser.registerActionHandler("setgeopoint", (org.javarosa.xform.parse.IElementHandler)
                Class.forName("org.opendatakit.validate.StubSetGeopointActionHandler").getDeclaredConstructor().newInstance());
        } catch (ClassNotFoundException ignored) {
            // not in this jar: forms using odk:setgeopoint will fail to parse
        }

        // --- Collect: FormUtils.setupReferenceManagerForForm ----------------------------------
        // jr://file/NAME is the form's media folder; images/audio/video/file-csv are translated to it.
        ReferenceManager rm = ReferenceManager.instance();
        rm.addReferenceFactory(new MediaReferenceFactory(mediaDir));
        for (String root : new String[]{"images", "audio", "video", "file-csv"}) {
            rm.addSessionRootTranslator(new RootTranslator("jr://" + root + "/", "jr://file/"));
        }

        // --- Collect: FormLoaderTask ------------------------------------------------------------
        // Parses the form; secondary instances (jr://file-csv/x.csv, jr://file/x.xml) are loaded here
        // through the ReferenceManager.
        FormDef form = XFormUtils.getFormFromFormXml(formFile.getAbsolutePath(), "jr://file/last-saved.xml");
        // Collect: ExternalDataHandlerPull — pulldata() is implemented by Collect, not JavaRosa.
        form.getEvaluationContext().addFunctionHandler(new PullData(mediaDir));
        // Collect: FormLoaderTask.initializeForm(newInstance = true): runs preloads (uid, timestamp
        // start, date today, property deviceid), odk-instance-first-load actions and calculates.
        form.initialize(true, new InstanceInitializationFactory());

        FillForm ff = new FillForm(form, script);
        return ff.fill(script.path("language").isTextual() ? script.path("language").asText() : null);
    }

    FillForm(FormDef form, JsonNode script) {
        this.form = form;
        this.model = new FormEntryModel(form);
        this.fec = new FormEntryController(model);
        for (JsonNode pair : script.path("answers")) {
            JsonNode v = pair.get(1);
            answers.put(canon(pair.get(0).asText()), v == null || v.isNull() ? null : v.asText());
        }
        for (JsonNode pair : script.path("earlier")) {
            JsonNode v = pair.get(1);
            earlier.put(canon(pair.get(0).asText()), v == null || v.isNull() ? null : v.asText());
        }
        script.path("repeats").fields().forEachRemaining(e -> repeats.put(canon(e.getKey()), e.getValue().asInt()));
    }

    ObjectNode fill(String language) throws Exception {
        ObjectNode out = JSON.createObjectNode();
        String[] languages = model.getLanguages();
        ArrayNode langs = out.putArray("languages");
        if (languages != null) for (String l : languages) langs.add(l);
        if (language != null) {
            if (languages == null || !java.util.Arrays.asList(languages).contains(language)) {
                throw new IllegalArgumentException("language " + language + " not in form languages " + langs);
            }
            // Collect: language menu -> FormController.setLanguage -> FormEntryController.setLanguage
            fec.setLanguage(language);
        }
        out.put("language", languages == null ? null : model.getLanguage());  // null: form has no itext

        boolean ok;
        try {
            if (!earlier.isEmpty()) {
                active = earlier;
                activeUsed = usedEarlier;
                walk();                               // stops once every earlier answer is given
                trace.add("back-to-start");
                active = answers;
                activeUsed = used;
            }
            walk();
            ok = finish(out);
        } catch (Stop stop) {
            ok = false;
        }
        out.put("ok", ok);
        if (!out.has("xml")) out.putNull("xml");
        out.set("violations", violations);
        out.put("screens", screens);
        ArrayNode unused = out.putArray("unused");
        for (String k : earlier.keySet()) if (!usedEarlier.contains(k)) unused.add(k);
        for (String k : answers.keySet()) if (!used.contains(k)) unused.add(k);
        out.set("trace", trace);
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Walking the form: Collect's FormController.stepToNextScreenEvent + "swipe forward".
    // ------------------------------------------------------------------------------------------

    void walk() {
        fec.jumpToIndex(FormIndex.createBeginningOfFormIndex());
        int event = fec.stepToNextEvent();
        while (event != FormEntryController.EVENT_END_OF_FORM) {
            if (active == earlier && usedEarlier.size() == earlier.size()) return;  // the collector swipes back
            FormIndex index = model.getFormIndex();
            String path = canon(index.getReference());
            switch (event) {
                case FormEntryController.EVENT_QUESTION:
                    // A question on its own screen: Collect shows it, then on swipe calls
                    // FormController.saveAnswer -> FormEntryController.answerQuestion(index, answer, true).
                    screens++;
                    trace.add("question " + path);
                    answer(index);
                    event = fec.stepToNextEvent();
                    break;
                case FormEntryController.EVENT_GROUP:
                case FormEntryController.EVENT_REPEAT:
                    if (event == FormEntryController.EVENT_REPEAT && maybeDeleteRepeat(index, path)) {
                        // Collect: "delete repeat" -> FormEntryController.deleteRepeat, which leaves us at
                        // the "Add another?" prompt for that repeat: handle that event next.
                        event = model.getEvent();
                        break;
                    }
                    if (!isFieldList(index)) {            // plain group / repeat instance: not a screen
                        event = fec.stepToNextEvent();
                        break;
                    }
                    // A field-list group is one screen holding all its relevant questions
                    // (Collect: FormController.getQuestionPrompts + saveAllScreenAnswers).
                    List<FormIndex> inside = questionsIn(index);
                    boolean any = false;
                    for (FormIndex q : inside) any |= model.isIndexRelevant(q);
                    if (any) {
                        screens++;
                        trace.add("field-list " + path);
                        for (FormIndex q : inside) {
                            if (model.isIndexRelevant(q)) answer(q); // relevance re-checked after each answer
                        }
                    }
                    // Collect: FormController.stepOverGroup — jump to the group's last element, step on.
                    fec.jumpToIndex(inside.isEmpty() ? index : inside.get(inside.size() - 1));
                    event = fec.stepToNextEvent();
                    break;
                case FormEntryController.EVENT_PROMPT_NEW_REPEAT:
                    // Collect's "Add another <group>?" screen.
                    screens++;
                    if (wantRepeat(index)) {
                        trace.add("add-repeat " + path);
                        fec.newRepeat();              // Collect: FormController.newRepeat
                    } else {
                        trace.add("no-repeat " + path);
                    }
                    event = fec.stepToNextEvent();
                    break;
                default:                              // EVENT_REPEAT_JUNCTURE: Collect skips these too
                    event = fec.stepToNextEvent();
            }
        }
    }

    /** Collect's "Finalize": FormController.validateAnswers(markCompleted=true), then finalizeForm, then serialize. */
    boolean finish(ObjectNode out) throws IOException {
        ValidateOutcome outcome = form.validate();  // = validate(markCompleted: true)
        if (outcome != null && outcome.outcome != FormEntryController.ANSWER_OK) {
            addViolation(outcome.failedPrompt, outcome.outcome, null, "finalize");
            return false;
        }
        fec.finalizeFormEntry();                      // postProcessInstance: end timestamp etc.
        // Collect: FormController.getFilledInFormXml -> XFormSerializingVisitor (non-relevant nodes dropped)
        byte[] xml = new XFormSerializingVisitor().serializeInstance(form.getInstance());
        out.put("xml", new String(xml, StandardCharsets.UTF_8));
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Answering
    // ------------------------------------------------------------------------------------------

    void answer(FormIndex index) {
        FormEntryPrompt prompt = model.getQuestionPrompt(index);
        String path = canon(index.getReference());
        IAnswerData data;
        if (active.containsKey(path)) {
            activeUsed.add(path);
            String raw = active.get(path);
            try {
                data = raw == null || raw.isEmpty() ? null : toAnswerData(prompt, raw);
            } catch (IllegalArgumentException e) {
                ObjectNode v = violations.addObject();
                v.put("path", path);
                v.put("kind", "invalid");
                v.put("message", e.getMessage());
                v.put("stage", "answer");
                throw new Stop();
            }
        } else {
            // Untouched widget: Collect saves what the widget shows (default / previous value or empty).
            data = prompt.getAnswerValue();
        }
        // Collect: FormController.answerQuestion -> FormEntryController.answerQuestion(index, data, true)
        int status = fec.answerQuestion(index, data, true);
        if (status != FormEntryController.ANSWER_OK) {
            addViolation(index, status, data, "answer");
            throw new Stop();                         // Collect keeps the user on this screen
        }
    }

    /** What the widget would produce: SelectOneData/SelectMultiData from the (possibly filtered) choices,
     *  otherwise the bind type's answer class parsed from text, as JavaRosa parses saved instances. */
    static IAnswerData toAnswerData(FormEntryPrompt prompt, String raw) {
        int control = prompt.getControlType();
        if (control == Constants.CONTROL_SELECT_ONE) {
            return new SelectOneData(choice(prompt, raw.trim()).selection());
        }
        if (control == Constants.CONTROL_SELECT_MULTI || control == Constants.CONTROL_RANK) {
            List<Selection> sel = new ArrayList<>();
            for (String value : raw.trim().split("\\s+")) sel.add(choice(prompt, value).selection());
            return new SelectMultiData(sel);
        }
        IAnswerData template = AnswerDataFactory.templateByDataType(prompt.getDataType());
        if (template == null || template instanceof StringData) return new StringData(raw);
        IAnswerData cast;
        try {
            cast = template.cast(new UncastData(raw));
        } catch (RuntimeException e) {
            cast = null;
        }
        if (cast == null || cast.getValue() == null) {
            throw new IllegalArgumentException("cannot enter '" + raw + "' as " + template.getClass().getSimpleName());
        }
        return cast;
    }

    static SelectChoice choice(FormEntryPrompt prompt, String value) {
        List<String> offered = new ArrayList<>();
        for (SelectChoice c : prompt.getSelectChoices()) {  // evaluates itemsets / choice_filter now
            if (c.getValue().equals(value)) return c;
            offered.add(c.getValue());
        }
        throw new IllegalArgumentException("'" + value + "' is not among the choices offered " + offered);
    }

    void addViolation(FormIndex index, int status, IAnswerData attempted, String stage) {
        FormEntryPrompt prompt = model.getQuestionPrompt(index);
        ObjectNode v = violations.addObject();
        v.put("path", canon(index.getReference()));
        String message;
        if (status == FormEntryController.ANSWER_REQUIRED_BUT_EMPTY) {
            v.put("kind", "required");
            // Collect: jr:requiredMsg bind attribute, else "Sorry, this response is required!"
            message = requiredText(prompt);
            if (message == null) message = "Sorry, this response is required!";
        } else {
            v.put("kind", "constraint");
            // Collect: prompt.getConstraintText() (jr:constraintMsg, localized), else the
            // "constraintMsg" itext form, else "Sorry, this response is invalid!"
            message = attempted != null ? prompt.getConstraintText(attempted) : prompt.getConstraintText();
            if (message == null) message = prompt.getSpecialFormQuestionText("constraintMsg");
            if (message == null) message = "Sorry, this response is invalid!";
        }
        v.put("message", message);
        v.put("stage", stage);
    }

    String requiredText(FormEntryPrompt prompt) {
        for (TreeElement attr : prompt.getBindAttributes()) {
            if (!"requiredMsg".equals(attr.getName())) continue;
            String text = attr.getAttributeValue();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*jr:itext\\('([^']*)'\\)\\s*$").matcher(text);
            if (m.matches() && form.getLocalizer() != null) return form.getLocalizer().getText(m.group(1));  // translated required_message
            return text;
        }
        return prompt.getSpecialFormQuestionText("requiredMsg");
    }

    // ------------------------------------------------------------------------------------------
    // Groups and repeats
    // ------------------------------------------------------------------------------------------

    /** Collect: FormController.indexIsInFieldList for a group/repeat event. */
    boolean isFieldList(FormIndex index) {
        IFormElement e = form.getChild(index);
        String appearance = e instanceof GroupDef ? e.getAppearanceAttr() : null;
        return appearance != null && appearance.toLowerCase().contains("field-list");
    }

    /** Collect: FormController.getIndicesForGroup — every question index inside the group, in order. */
    List<FormIndex> questionsIn(FormIndex group) {
        List<FormIndex> out = new ArrayList<>();
        GroupDef gd = (GroupDef) form.getChild(group);
        FormIndex child = model.incrementIndex(group, true);
        for (int i = 0; i < gd.getChildren().size() && child.isInForm(); i++) {
            int ev = model.getEvent(child);
            if (ev == FormEntryController.EVENT_GROUP) {
                out.addAll(questionsIn(child));
            } else if (ev == FormEntryController.EVENT_QUESTION) {
                out.add(child);
            }
            child = model.incrementIndex(child, false);
        }
        return out;
    }

    /** At "Add another?": add when the script's repeat count, or any answer path, reaches the next instance.
     *  "/data/members[3]/name" asks for 3 instances; "/data/members/name" for 1. */
    boolean wantRepeat(FormIndex promptIndex) {
        TreeReference ref = promptIndex.getReference();      // e.g. /data/members[3] = the would-be instance
        int number = ref.getMultLast() + 1;
        String repeat = repeatPath(ref);
        Integer explicit = active == answers ? repeats.get(repeat) : null;
        if (explicit != null) return number <= explicit;
        for (String p : active.keySet()) {
            if (!p.startsWith(repeat)) continue;
            String rest = p.substring(repeat.length());
            int position = 0;
            if (rest.isEmpty() || rest.startsWith("/")) {
                position = 1;
            } else if (rest.startsWith("[") && rest.indexOf(']') > 0) {
                String after = rest.substring(rest.indexOf(']') + 1);
                if (after.isEmpty() || after.startsWith("/")) position = Integer.parseInt(rest.substring(1, rest.indexOf(']')));
            }
            if (position >= number) return true;
        }
        return false;
    }

    /** Existing instances (pyxform's default first instance) beyond an explicit count are deleted. */
    boolean maybeDeleteRepeat(FormIndex index, String path) {
        IFormElement e = form.getChild(index);
        if (!(e instanceof GroupDef) || ((GroupDef) e).getCountReference() != null) return false; // jr:count
        TreeReference ref = index.getReference();
        Integer explicit = active == answers ? repeats.get(repeatPath(ref)) : null;
        if (explicit == null || ref.getMultLast() + 1 <= explicit) return false;
        trace.add("delete-repeat " + path);
        fec.deleteRepeat(index);
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Paths: "/data/members[2]/name"; an index [1] may be omitted anywhere.
    // ------------------------------------------------------------------------------------------

    static String canon(String path) {
        String p = path.trim().replace("[1]", "");
        return p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    static String canon(TreeReference ref) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ref.size(); i++) {
            sb.append('/').append(ref.getName(i));
            int mult = ref.getMultiplicity(i);
            if (mult > 0) sb.append('[').append(mult + 1).append(']');
        }
        return sb.toString();
    }

    /** "/data/hh[2]/members" for any instance of that repeat (parents' positions kept). */
    static String repeatPath(TreeReference ref) {
        String c = canon(ref);
        return c.endsWith("]") ? c.substring(0, c.lastIndexOf('[')) : c;
    }

    // ------------------------------------------------------------------------------------------
    // Collect-side services JavaRosa calls back into
    // ------------------------------------------------------------------------------------------

    /** jr://file/NAME -> MEDIA_DIR/NAME (Collect's FileReferenceFactory on the form's media folder). */
    static final class MediaReferenceFactory implements ReferenceFactory {
        static final String ROOT = "jr://file/";
        final File dir;

        MediaReferenceFactory(File dir) { this.dir = dir; }

        public boolean derives(String uri) { return uri.startsWith(ROOT); }

        public Reference derive(String uri) { return new FileReference(uri, new File(dir, uri.substring(ROOT.length()))); }

        public Reference derive(String uri, String context) {
            return derive(uri.startsWith("jr://") ? uri : context.substring(0, context.lastIndexOf('/') + 1) + uri);
        }
    }

    static final class FileReference implements Reference {
        final String uri;
        final File file;

        FileReference(String uri, File file) { this.uri = uri; this.file = file; }

        public boolean doesBinaryExist() { return file.exists(); }
        public InputStream getStream() throws IOException { return new FileInputStream(file); }
        public String getURI() { return uri; }
        public String getLocalURI() { return file.getAbsolutePath(); }
        public boolean isReadOnly() { return true; }
        public OutputStream getOutputStream() throws IOException { throw new IOException("read-only: " + uri); }
        public void remove() throws IOException { throw new IOException("read-only: " + uri); }
        public Reference[] probeAlternativeReferences() { return new Reference[0]; }
    }

    /** Collect's ExternalDataHandlerPull: pulldata('file', 'col', 'keycol', key) over MEDIA_DIR/file.csv;
     *  the first matching row's value, or "" when no row matches. */
    static final class PullData implements IFunctionHandler {
        final File dir;
        final Map<String, List<CSVRecord>> cache = new HashMap<>();

        PullData(File dir) { this.dir = dir; }

        public String getName() { return "pulldata"; }
        @SuppressWarnings("rawtypes") public List<Class[]> getPrototypes() { return new ArrayList<>(); }
        public boolean rawArgs() { return true; }
        public boolean realTime() { return false; }

        public Object eval(Object[] args, EvaluationContext ec) {
            if (args.length != 4) throw new IllegalArgumentException("pulldata() takes 4 arguments, got " + args.length);
            String name = XPathFuncExpr.toString(args[0]);
            String column = XPathFuncExpr.toString(args[1]);
            String keyColumn = XPathFuncExpr.toString(args[2]);
            String key = XPathFuncExpr.toString(args[3]);
            for (CSVRecord row : rows(name)) {
                if (row.isMapped(keyColumn) && row.isSet(keyColumn) && row.get(keyColumn).equals(key)) {
                    if (!row.isMapped(column)) throw new IllegalArgumentException("pulldata: no column " + column + " in " + name + ".csv");
                    return row.isSet(column) ? row.get(column) : "";
                }
            }
            return "";
        }

        List<CSVRecord> rows(String name) {
            return cache.computeIfAbsent(name, n -> {
                File f = new File(dir, n.endsWith(".csv") ? n : n + ".csv");
                if (!f.exists()) throw new IllegalArgumentException("pulldata: media file " + f.getName() + " not found");
                try (CSVParser parser = new SecondaryInstanceCSVParserBuilder().path(f.getAbsolutePath()).build()) {
                    return parser.getRecords();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }
    }

    /** Collect's PropertyManager: deviceid, username, email, phonenumber... for jr:preload="property". */
    static final class MapPropertyManager implements IPropertyManager {
        final Map<String, String> props;

        MapPropertyManager(Map<String, String> props) { this.props = props; }

        public List<String> getProperty(String name) {
            List<String> l = new ArrayList<>();
            String v = getSingularProperty(name);
            if (v != null) l.add(v);
            return l;
        }
        public void setProperty(String name, String value) { props.put(name, value); }
        public void setProperty(String name, List<String> values) { props.put(name, values.isEmpty() ? null : values.get(0)); }
        public String getSingularProperty(String name) {
            // Collect also answers the "uri:" forms (uri:deviceid, uri:username...)
            String v = props.get(name);
            return v != null ? v : props.get(name.startsWith("uri:") ? name.substring(4) : "uri:" + name);
        }
        public void addRules(IPropertyRules rules) { }
        public List<IPropertyRules> getRules() { return new ArrayList<>(); }
    }
}
